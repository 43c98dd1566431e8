"""Benchmark: where an evaluation's time goes, system by system, and what the reader's answer check costs.

    python bench/eval_time.py --home .demo/home [--tenant acme] [--questions questions.jsonl] [--limit 20]

`ownllm eval` asks every system the same questions through `ownllm.chat.answer`, one after another; its total
is what `make demo` waits for. This asks the same questions the same way (`--questions` split by the dataset's
held-out documents, `--limit` per set, as the demo does) and prints each system's seconds, then the reader's again
with the answer check off (`answer_check=False`, i.e. `OWNLLM_ANSWER_CHECK=false`). The first question of each
system is timed apart: it loads the model. Nothing is scored or stored; the home's models and corpus are only read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with a tuned model, e.g. make demo's")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--questions", type=Path, default=None, help="the company's question file (split by source)")
    parser.add_argument("--limit", type=int, default=20, help="questions per set")
    args = parser.parse_args()

    from ownllm.config import Settings
    from ownllm.evaluate.run import EvalRequest, eval_models, eval_questions
    from ownllm.evaluate.systems import READER_SYSTEM, ask_system, questions_for, systems_for
    from ownllm.inference.pool import shared_pool
    from ownllm.store.home import open_home
    from ownllm.store.tenants import get_tenant

    request = EvalRequest(questions_file=args.questions, split_questions_file=args.questions is not None,
                          limit=args.limit)
    for check in (True, False):
        home = open_home(Settings(home=args.home, answer_check=check))
        tenant = get_tenant(home, args.tenant).id
        models, reader = eval_models(home, tenant, None)
        questions, _ = eval_questions(home, tenant, request)
        pool = shared_pool(home.settings.engine_memory_mb)
        for system in systems_for(models, reader):
            if not check and system.name != READER_SYSTEM:
                continue  # the check only changes the reader's answers
            asked = questions_for(system, questions)
            started = time.perf_counter()
            ask_system(home, pool, tenant, system, asked[0].question)
            first = time.perf_counter() - started
            started = time.perf_counter()
            for question in asked[1:]:
                ask_system(home, pool, tenant, system, question.question)
            rest = time.perf_counter() - started
            print(f"{system.name:12s} answer check {'on ' if check else 'off'}  {len(asked):3d} questions  "
                  f"first {first:5.1f} s  the rest {rest:6.1f} s  total {first + rest:6.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
