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
Results go to bench/answer-check-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT.parent / "shared" / "testdata" / "qa"
SETS = (("SQuAD v1.1 subset (en)", "squad-dev-subset.json"), ("DRCD subset (zh)", "drcd-dev-subset.json"))


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--questions", type=int, default=30, help="answerable and unanswerable cases per set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from ownllm.chat.answer_check import VERDICT_PARAMS, check_messages, says_supported
    from ownllm.chat.policy import KNOWLEDGE_STOP, answer_in_the_question_language, is_decline
    from ownllm.config import Settings
    from ownllm.evaluate.metrics import best_over_golds, bootstrap_ci, f1_score
    from ownllm.inference.engine import SamplingParams
    from ownllm.inference.pool import shared_pool
    from ownllm.models.registry import resolve_model, serving_spec
    from ownllm.retrieval.rag import Evidence, augment_with_passages
    from ownllm.retrieval.search import SearchHit
    from ownllm.store.home import open_home
    from ownllm.text import question_lang

    home = open_home(Settings(home=Path(tempfile.mkdtemp(prefix="ownllm-answer-check-"))))
    entry = resolve_model(home, None, args.model)
    handle = shared_pool(home.settings.engine_memory_mb).handle(serving_spec(entry, home.settings))
    params = SamplingParams(max_tokens=64, stop=KNOWLEDGE_STOP)
    results = []
    for label, name in SETS:
        began = time.monotonic()
        rows = []
        for case in cases(QA / name, args.questions, args.seed):
            lang = question_lang(case["question"])
            hit = SearchHit(0, 1.0, "c1", case["context"], "d1", case["title"], f"{case['title']}.html", "document",
                            None, None, None, 0, len(case["context"]))
            messages = augment_with_passages([{"role": "user", "content": case["question"]}],
                                             [Evidence(case["context"], hit, 1)], lang)
            messages = answer_in_the_question_language(messages)
            text = handle.generate(handle.chat_prompt(messages), params).text.strip()
            checked = text
            if text and not is_decline(text):
                verdict = handle.generate(handle.chat_prompt(check_messages(messages, text, lang)), VERDICT_PARAMS)
                checked = text if says_supported(verdict.text) else "Not found in the knowledge base."
            # the question by its id only: the QA sets are read from ../shared, never copied into the repo
            row = {"answerable": case["answerable"], "lang": lang, "question_id": case["id"], "answer": text,
                   "declined": is_decline(text), "checked_declined": is_decline(checked)}
            if case["answerable"]:
                row["f1"] = best_over_golds(f1_score, text, case["golds"], lang)
                row["checked_f1"] = best_over_golds(f1_score, checked, case["golds"], lang)
            rows.append(row)
        seconds = time.monotonic() - began
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]

        def share(items: list[dict], key: str) -> float:
            return sum(r[key] for r in items) / max(len(items), 1)

        def mean_ci(key: str, answerable: list[dict] = answerable) -> str:
            values = [r[key] for r in answerable]
            low, high = bootstrap_ci(values)
            return f"{sum(values) / len(values):.3f} [{low:.2f}, {high:.2f}]"

        print(f"{label}: {len(answerable)} answerable, {len(unanswerable)} unanswerable, {seconds:.0f} s")
        print(f"  answerable F1       unchecked {mean_ci('f1')}   checked {mean_ci('checked_f1')}")
        print(f"  answerable declined unchecked {share(answerable, 'declined'):.2f}   "
              f"checked {share(answerable, 'checked_declined'):.2f}")
        print(f"  unanswerable declined unchecked {share(unanswerable, 'declined'):.2f}   "
              f"checked {share(unanswerable, 'checked_declined'):.2f}")
        results.append({"set": label, "seconds": round(seconds), "rows": rows})
    out = ROOT / "bench" / "answer-check-results.json"
    out.write_text(json.dumps({"model": args.model, "seed": args.seed, "load_average": os.getloadavg()[0],
                               "results": results}, ensure_ascii=False, indent=1))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
