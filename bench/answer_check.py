"""Benchmark: the grounded-answer check on public reading-comprehension data it was never built on.

    python bench/answer_check.py [--model qwen2.5-coder-1.5b-instruct] [--questions 30] [--seed 0]

The check (`chat/answer_check.py`) was designed on the sample company's unanswerable questions. Here
it meets SQuAD v1.1 (English) and DRCD (Traditional Chinese) subsets from ../shared/testdata/qa/:
- answerable: a question with its own paragraph, in the exact prompt a passage reader is served
  (`augment_with_passages`, the answer-language instruction);
- unanswerable: the same question with another paragraph of the same article that contains none of
  its reference answers (a near miss: same topic, no answer), which is what a retrieval miss looks like.
For each, the reader answers once; the check then runs on that answer, so the unchecked and checked
rows are paired. Printed per set: F1 on answerable questions, the share declined on each kind, seconds.

`--sets ... company` adds the sample company through the served answer path (`prepare_answer`: its
retrieval, its passages): natural questions as answerable, its unanswerable questions as such.

The checker's P(yes) is kept per row, so one run also prints what each decline threshold would do
(`Settings.answer_check_threshold`), and which threshold each set would get if it were chosen on the
other sets alone (leave one set out: the choice a company with none of these sets would inherit).
Results go to bench/answer-check-results.json (`--out`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT.parent / "shared" / "testdata" / "qa"
SETS = {"squad": ("SQuAD v1.1 subset (en)", "squad-dev-subset.json"),
        "drcd": ("DRCD subset (zh)", "drcd-dev-subset.json"),
        "company": ("sample company", None)}
THRESHOLDS = (0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)
DECLINE_AT = (0.5, 0.3, 0.2, 0.1, 0.05)
NOT_FOUND = "Not found in the knowledge base."


def cases(path: Path, count: int, seed: int) -> list[dict]:
    """`count` answerable and `count` unanswerable cases, sampled with `seed`."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    pool = [(article, paragraph, qa) for article in data for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]]
    rng.shuffle(pool)
    chosen: list[dict] = []
    for article, paragraph, qa in pool[:count]:
        golds = [a["text"] for a in qa["answers"]]
        chosen.append({"title": article["title"], "context": paragraph["context"], "question": qa["question"],
                       "id": qa["id"], "golds": golds, "answerable": True})
    for article, paragraph, qa in pool[count:]:
        if len([c for c in chosen if not c["answerable"]]) >= count:
            break
        golds = [a["text"].lower() for a in qa["answers"]]
        others = [p for p in article["paragraphs"]
                  if p is not paragraph and not any(g in p["context"].lower() for g in golds)]
        if others:
            chosen.append({"title": article["title"], "context": rng.choice(others)["context"],
                           "question": qa["question"], "id": qa["id"], "golds": [], "answerable": False})
    return chosen


def company_cases(work: Path, count: int, seed: int) -> tuple[list[dict], Any]:
    """The sample company ingested into a fresh home: `count` natural questions and `count` unanswerable."""
    from ownllm.config import Settings
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.samples.generate import generate
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant

    company = generate(work / "company")
    home = open_home(Settings(home=work / "home"))
    tenant = create_tenant(home, "bench").id
    ingest_paths(home, tenant, [company.dropbox])
    rows = [json.loads(line) for line in company.questions_path.read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(seed)
    answerable = [r for r in rows if not r.get("unanswerable")]
    unanswerable = [r for r in rows if r.get("unanswerable")]
    chosen = [{"question": r["question"], "id": f"company-{i}", "golds": [r["answer"]], "answerable": True}
              for i, r in enumerate(rng.sample(answerable, min(count, len(answerable))))]
    chosen += [{"question": r["question"], "id": f"company-unanswerable-{i}", "golds": [], "answerable": False}
               for i, r in enumerate(rng.sample(unanswerable, min(count, len(unanswerable))))]
    return chosen, (home, tenant)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--questions", type=int, default=30, help="answerable and unanswerable cases per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["squad", "drcd", "company"])
    parser.add_argument("--en-prompt", default=None, help="try another English passage-reader instruction")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "answer-check-results.json")
    parser.add_argument("--from-results", type=Path, default=None,
                        help="print the threshold table of a recorded run (no model is loaded)")
    args = parser.parse_args()
    if args.from_results is not None:
        return _print_recorded(args.from_results)

    from ownllm.chat.answer import AnswerRequest, Knowledge, prepare_answer
    from ownllm.chat.answer_check import VERDICT_PARAMS, check_messages, yes_probability
    from ownllm.chat.policy import KNOWLEDGE_STOP, answer_in_the_question_language, is_decline
    from ownllm.config import Settings
    from ownllm.evaluate.metrics import best_over_golds, f1_score
    from ownllm.inference.engine import SamplingParams
    from ownllm.inference.pool import shared_pool
    from ownllm.models.registry import resolve_model, serving_spec
    from ownllm.retrieval import rag
    from ownllm.retrieval.rag import Evidence, augment_with_passages
    from ownllm.retrieval.search import SearchHit
    from ownllm.store.home import open_home
    from ownllm.text import question_lang

    if args.en_prompt:
        rag.PASSAGE_PROMPTS["en"] = args.en_prompt
    work = Path(tempfile.mkdtemp(prefix="ownllm-answer-check-"))
    home = open_home(Settings(home=work / "qa-home"))
    entry = resolve_model(home, None, args.model)
    pool = shared_pool(home.settings.engine_memory_mb)
    handle = pool.handle(serving_spec(entry, home.settings))
    # the reader's first token's distribution too: how much of it starts the not-found sentence
    params = SamplingParams(max_tokens=64, stop=KNOWLEDGE_STOP, logprobs=True, top_logprobs=20)
    results = []
    for key in args.sets:
        label, name = SETS[key]
        company = None
        if name is None:
            chosen, company = company_cases(work, args.questions, args.seed)
        else:
            chosen = cases(QA / name, args.questions, args.seed)
        began = time.monotonic()
        rows = []
        for case in chosen:
            lang = question_lang(case["question"])
            question = [{"role": "user", "content": case["question"]}]
            if company is not None:  # the served path: the company's retrieval and passages
                prepared = prepare_answer(company[0], pool, company[1], AnswerRequest(
                    args.model, question, knowledge=Knowledge()))
                reply = (None if prepared.fixed_text is not None else prepared.handle.generate(
                    prepared.prompt, dataclasses.replace(prepared.params, logprobs=params.logprobs,
                                                         top_logprobs=params.top_logprobs)))
                text = (prepared.fixed_text if reply is None else reply.text).strip()
                messages = prepared.check.grounded if prepared.check is not None else None
            else:
                hit = SearchHit(0, 1.0, "c1", case["context"], "d1", case["title"], f"{case['title']}.html",
                                "document", None, None, None, 0, len(case["context"]))
                messages = answer_in_the_question_language(
                    augment_with_passages(question, [Evidence(case["context"], hit, 1)], lang))
                reply = handle.generate(handle.chat_prompt(messages), params)
                text = reply.text.strip()
            verdict, p_yes = None, None
            if messages is not None and text and not is_decline(text):
                check = handle.generate(handle.chat_prompt(check_messages(messages, text, lang)), VERDICT_PARAMS)
                verdict, p_yes = check.text, yes_probability(check.logprobs)
            # the question by its id only: the QA sets are read from ../shared, never copied into the repo
            row = {"answerable": case["answerable"], "lang": lang, "question_id": case["id"], "answer": text,
                   "declined": is_decline(text), "verdict": verdict, "p_yes": p_yes,
                   "p_decline": None if reply is None else decline_probability(reply.logprobs, lang)}
            if case["answerable"]:
                row["f1"] = best_over_golds(f1_score, text, case["golds"], lang)
            rows.append(row)
        seconds = time.monotonic() - began
        _print_table(label, rows, f", {seconds:.0f} s")
        results.append({"set": label, "seconds": round(seconds), "rows": rows})
    _leave_one_out(results)
    args.out.write_text(json.dumps({"model": args.model, "seed": args.seed, "en_prompt": args.en_prompt,
                                    "load_average": os.getloadavg()[0], "results": results},
                                   ensure_ascii=False, indent=1))
    print(f"written {args.out}")
    return 0


def _print_recorded(path: Path) -> int:
    recorded = json.loads(path.read_text(encoding="utf-8"))
    for result in recorded["results"]:
        _print_table(result["set"], result["rows"])
    _leave_one_out(recorded["results"])
    return 0


def decline_probability(logprobs: Any, lang: str) -> float | None:
    """The reader's first-token mass on pieces that begin its not-found sentence."""
    from ownllm.chat.policy import NOT_FOUND_ANSWERS

    if not logprobs:
        return None
    sentence = NOT_FOUND_ANSWERS.get(lang, NOT_FOUND_ANSWERS["en"])
    return sum(math.exp(logprob) for piece, logprob in logprobs[0].top
               if piece.strip() and sentence.startswith(piece.strip()))


def _kept(row: dict, threshold: float | None, decline_at: float | None = None) -> bool:
    """Whether the answer is given: checked at `threshold` (None: unchecked), and, with `decline_at`,
    declined when the reader's own first-token mass on its not-found sentence reaches it. A reader's
    own decline stays one."""
    if row["declined"]:
        return False
    if decline_at is not None and (row.get("p_decline") or 0.0) >= decline_at:
        return False
    if threshold is None or row["verdict"] is None:
        return True
    from ownllm.chat.answer_check import says_supported

    return says_supported(row["verdict"], row["p_yes"], threshold)


def _scores(rows: list[dict], threshold: float | None,
            decline_at: float | None = None) -> tuple[float, float, float]:
    """(answerable F1, answerable declined, unanswerable declined) under one rule."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    f1 = sum(r["f1"] for r in answerable if _kept(r, threshold, decline_at)) / max(len(answerable), 1)
    lost = sum(not _kept(r, threshold, decline_at) for r in answerable) / max(len(answerable), 1)
    declined = sum(not _kept(r, threshold, decline_at) for r in unanswerable) / max(len(unanswerable), 1)
    return f1, lost, declined


def _describe(rows: list[dict], threshold: float | None, decline_at: float | None = None) -> str:
    f1, lost, declined = _scores(rows, threshold, decline_at)
    name = "unchecked      " if threshold is None else f"P(yes) < {threshold:.2f}"
    if decline_at is not None:
        name += f" or P(not found) >= {decline_at:.2f}"
    return (f"{name}  answerable F1 {f1:.3f}  answerable declined {lost:.2f}  unanswerable declined {declined:.2f}"
            f"  (mean of F1 and declines {(f1 + declined) / 2:.3f})")


def _print_table(label: str, rows: list[dict], timing: str = "") -> None:
    print(f"{label}: {sum(r['answerable'] for r in rows)} answerable, "
          f"{sum(not r['answerable'] for r in rows)} unanswerable{timing}")
    for threshold in (None, *THRESHOLDS):
        print("  " + _describe(rows, threshold))
    if any(r.get("p_decline") is not None for r in rows):  # the reader's own doubt, alone and with the check
        for threshold in (None, 0.5):
            for decline_at in DECLINE_AT:
                print("  " + _describe(rows, threshold, decline_at))


def _leave_one_out(results: list[dict]) -> None:
    """Each set scored at the threshold the other sets would pick (best mean of F1 and declines)."""
    if len(results) < 2:
        return
    print("threshold chosen on the other sets (best mean of answerable F1 and unanswerable declined):")
    for held in results:
        others = [r for r in results if r is not held]

        def merit(threshold: float, others: list[dict] = others) -> float:
            return sum(sum(_scores(r["rows"], threshold)[::2]) / 2 for r in others) / len(others)

        best = max(THRESHOLDS, key=lambda t: (round(merit(t), 6), -abs(t - 0.5)))  # ties: nearest the greedy 0.5
        print(f"  {held['set']}: {best:.2f} -> " + _describe(held["rows"], best))


if __name__ == "__main__":
    raise SystemExit(main())
