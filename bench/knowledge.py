"""Benchmark: does the company's model know the company? Readers and tuned models on the sample company.

    python bench/knowledge.py [--seeds 0 1 2] [--readers smollm2-135m-instruct qwen2.5-coder-0.5b-instruct ...]
                              [--tune [--max-steps 60]] [--heldout 0.3] [--train-limit 40]

One run: generate the sample company (86 documents, 616 facts, a third Chinese), ingest it, then for
each seed synthesize (the seed decides which documents are held out), optionally tune SmolLM2 with the
default recipe, and evaluate through `ownllm eval`'s own code (the answer path the API serves) on the
company's natural questions: every fact of a held-out document (`--split`), a sample of the training
documents' facts, and the 50 unanswerable questions. Each reader answers with RAG; SmolLM2 also
closed-book, and tuned when `--tune`. Printed per reader/system: F1 with its 95% CI on held-out
questions, the share of unanswerable questions declined, the share of answers in the question's
language; then mean ± spread over the seeds. Results are written to bench/knowledge-results.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_READERS = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--readers", nargs="+", default=DEFAULT_READERS)
    parser.add_argument("--tune", action="store_true", help="also tune SmolLM2 per seed and evaluate it")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cap every tuning stage at N steps (`make demo` tunes 60)")
    parser.add_argument("--heldout", type=float, default=0.3, help="share of documents held out per language")
    parser.add_argument("--train-limit", type=int, default=40, help="training-document questions asked")
    parser.add_argument("--limit", type=int, default=None, help="cap every question set (quick runs)")
    parser.add_argument("--heldout-limit", type=int, default=None,
                        help="held-out questions asked per seed (a sample; the unanswerable set stays whole)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "knowledge-results.json",
                        help="where the rows are written (another file keeps the recorded run)")
    args = parser.parse_args()

    from ownllm.config import Settings
    from ownllm.evaluate.run import EvalRequest, evaluate
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.models.hub import SHIPPED_MODELS
    from ownllm.samples.generate import generate
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant
    from ownllm.synth.config import SynthConfig
    from ownllm.synth.run import synthesize
    from ownllm.tune.run import TuneRequest, tune

    readers = [r for r in args.readers if SHIPPED_MODELS[r].installed]
    skipped = sorted(set(args.readers) - set(readers))
    work = Path(tempfile.mkdtemp(prefix="ownllm-knowledge-"))
    company = generate(work / "company")
    home = open_home(Settings(home=work / "home"))
    tenant = create_tenant(home, "bench").id
    started = time.monotonic()
    report = ingest_paths(home, tenant, [company.dropbox])
    print(f"ingested {len(company.manifest())} documents ({report.count('parsed')} parsed) in "
          f"{time.monotonic() - started:.0f} s; readers: {', '.join(readers)}"
          + (f"; not installed (make models): {', '.join(skipped)}" if skipped else ""))
    results: list[dict] = []
    for seed in args.seeds:
        dataset = synthesize(home, tenant, SynthConfig(seed=seed, heldout_fraction=args.heldout))
        heldout = set(dataset.split["heldout_documents"])
        models = ["smollm2-135m-instruct"]
        if args.tune:
            overrides = {"stages.*.max_steps": args.max_steps} if args.max_steps else {}
            tuned = tune(home, tenant, TuneRequest(dataset=dataset.id, suffix=f"seed{seed}", overrides=overrides))
            models.append(tuned.model_id)
        runs = []
        if "smollm2-135m-instruct" in readers or args.tune:
            runs.append(("smollm2", EvalRequest(models=models, dataset=dataset.id,
                                                questions_file=company.questions_path, split_questions_file=True,
                                                limit=args.limit, seed=seed, apply_gate=False)))
        runs += [(reader, EvalRequest(models=[reader], dataset=dataset.id, questions_file=company.questions_path,
                                      split_questions_file=True, limit=args.limit, seed=seed, apply_gate=False))
                 for reader in readers if reader != "smollm2-135m-instruct"]
        for label, request in runs:
            # every held-out and unanswerable question; the training documents' set only checks memorization
            request.set_limits = {"train": min(args.limit or args.train_limit, args.train_limit)}
            if args.heldout_limit is not None:
                request.set_limits["heldout"] = args.heldout_limit
            began = time.monotonic()
            outcome = evaluate(home, tenant, request)
            seconds = time.monotonic() - began
            for set_name, per_system in outcome.report["summary"].items():
                for system, cell in per_system.items():
                    results.append({"seed": seed, "run": label, "set": set_name, "system": system, "n": cell["n"],
                                    "f1": cell["f1"]["mean"], "f1_ci": cell["f1"]["ci"],
                                    "language": cell["answer_language"]["mean"],
                                    "declined": cell.get("declined", {}).get("mean"),
                                    "citation": cell.get("citation_accuracy"), "seconds": round(seconds)})
            print(f"seed {seed} {label}: {len(heldout)} held-out documents, {seconds:.0f} s")
            _print_seed([r for r in results if r["seed"] == seed and r["run"] == label])
    _print_summary(results)
    out = args.out
    out.write_text(json.dumps({"load_average": os.getloadavg()[0], "results": results}, indent=1, ensure_ascii=False))
    print(f"written {out}")
    return 0


def _print_seed(rows: list[dict]) -> None:
    for row in rows:
        extra = f" declined {row['declined']:.2f}" if row["declined"] is not None else ""
        print(f"  {row['set']:12s} {row['system']:34s} n={row['n']:3d} F1 {row['f1']:.3f} "
              f"[{row['f1_ci'][0]:.2f}, {row['f1_ci'][1]:.2f}] in-language {row['language']:.2f}{extra}")


def _print_summary(results: list[dict]) -> None:
    print("\nmean ± spread over seeds (F1; unanswerable: share declined)")
    keys = sorted({(r["run"], r["set"], r["system"]) for r in results})
    for run_name, set_name, system in keys:
        values = [r["f1"] for r in results if (r["run"], r["set"], r["system"]) == (run_name, set_name, system)]
        spread = (max(values) - min(values)) / 2 if len(values) > 1 else 0.0
        print(f"  {run_name:30s} {set_name:12s} {system:34s} {statistics.mean(values):.3f} ± {spread:.3f} "
              f"({len(values)} seeds)")


if __name__ == "__main__":
    raise SystemExit(main())
