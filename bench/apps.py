"""Benchmark: the six built-in apps on their eval sets, per model, in one run.

    python bench/apps.py [--home .demo/home] [--tenant acme] [--models base tuned qwen2.5-coder-0.5b-instruct]
                         [--limit 6] [--apps meeting_minutes ...]

Over a home where the tenant has ingested the sample company (`make demo` leaves one in .demo/home,
with SmolLM2 tuned on the company and promoted), every app runs on each model: `base` is SmolLM2,
`tuned` the tenant's newest tuned model, any other name a model id. Printed per app and model, the
`ownllm app eval` scorecard: schema-valid rate, all-checks-passed rate, grounded-claim rate, expected
facts found, seconds per case (and end of speech → first token for spoken requests). Written to
bench/apps-results.json with the load average, since other processes may share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=ROOT / ".demo" / "home")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--models", nargs="+", default=["base", "tuned", "qwen2.5-coder-0.5b-instruct"])
    parser.add_argument("--apps", nargs="+", default=None)
    parser.add_argument("--limit", type=int, default=6, help="cases per app, alternating English and Chinese")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "apps-results.json")
    args = parser.parse_args()

    os.environ["OWNLLM_HOME"] = str(args.home)
    from ownllm.apps.scorecard import run_scorecard
    from ownllm.services.runtime import Runtime
    from ownllm.store.catalog import TunedModel
    from ownllm.store.home import open_home
    from ownllm.store.tenants import get_tenant

    home = open_home()
    tenant = get_tenant(home, args.tenant)
    models = []
    for name in args.models:
        if name == "base":
            models.append("smollm2-135m-instruct")
        elif name == "tuned":
            with home.catalog.session() as session:
                tuned = session.query(TunedModel).filter_by(tenant_id=tenant.id).order_by(
                    TunedModel.created_at.desc()).first()
            if tuned is None:
                parser.error(f"tenant {args.tenant} has no tuned model in {args.home} (run `make demo` first)")
            models.append(tuned.id)
        else:
            models.append(name)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    card = run_scorecard(home, Runtime.for_cli(home).pool, tenant.id, models, args.apps, args.limit,
                         progress=lambda text: print(f"  {text}", flush=True))
    card.update(models=models, limit=args.limit, seconds=round(time.monotonic() - started, 1),
                load_average=[round(load_before, 2), round(os.getloadavg()[0], 2)])
    args.out.write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
    print("\n| app | model | cases | schema-valid | checks passed | grounded | expected facts | s/case |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in card["rows"]:
        grounded = "–" if row["grounded"] is None else f"{row['grounded']:.2f}"
        model = row["model"] if len(row["model"]) < 40 else row["model"][:37] + "…"
        print(f"| {row['app']} | {model} | {row['cases']} | {row['schema_valid']:.2f} | {row['checks_passed']:.2f} | "
              f"{grounded} | {row['expected']:.2f} | {row['seconds']:.1f} |")
    speech = [r for r in card["rows"] if r.get("speech_to_first_token_s") is not None]
    for row in speech:
        print(f"voice_request {row['model'][:40]}: end of speech → first token {row['speech_to_first_token_s']:.2f} s")
    print(f"\n{card['seconds']:.0f} s, load average {card['load_average']}; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
