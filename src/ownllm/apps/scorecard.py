"""`ownllm app eval`: every built-in app on its eval set, per model, scored the same way.

Per app and model: the share of cases whose output is schema-valid JSON, the share that
passed every check, the grounded-claim rate (claims supported by the passage they cite,
items sharing words with the transcript or messages they point at), the share of expected
facts found in the output (owners, due dates, conversations, catalogue words, the
request's kind, the sketch's labels), and seconds per case. Spoken cases also report the
latency from the end of speech to the first token.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from ownllm.apps.evalcases import APPS, case_files, load_cases
from ownllm.apps.runner import run_app
from ownllm.apps.spec import builtin_specs
from ownllm.errors import OwnLLMError
from ownllm.inference.pool import EnginePool
from ownllm.store.home import Home

GROUNDING_CHECKS = ("citations_grounded", "items_grounded")


def pick_cases(cases: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first `limit` cases, alternating languages so a small limit still covers both."""
    if limit is None or limit >= len(cases):
        return cases
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        by_lang.setdefault(case["lang"], []).append(case)
    picked: list[dict[str, Any]] = []
    queues = list(by_lang.values())
    while len(picked) < limit and any(queues):
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def expected_found(case: dict[str, Any], output: dict[str, Any], variant: str | None) -> float:
    expect = case.get("expect", {})
    text = json.dumps(output, ensure_ascii=False).lower()
    facts = [term.lower() for term in expect.get("terms", []) if term]
    found = [fact in text for fact in facts]
    if "kind" in expect:
        found.append(variant == expect["kind"])
    return sum(found) / len(found) if found else 1.0


def score_case(home: Home, pool: EnginePool, tenant_id: str, app: str, model: str,
               case: dict[str, Any]) -> dict[str, Any]:
    spec = builtin_specs()[app]
    inputs = dict(case.get("inputs", {}))
    started = time.monotonic()
    try:
        result = run_app(home, pool, tenant_id, spec, model, inputs, case_files(case))
    except OwnLLMError as exc:
        return {"case": case["id"], "lang": case["lang"], "schema_valid": False, "checks_passed": False,
                "grounded": None, "expected": 0.0, "seconds": time.monotonic() - started, "error": str(exc)}
    rates = [c.rate for c in result.checks if c.check in GROUNDING_CHECKS and c.rate is not None]
    return {"case": case["id"], "lang": case["lang"], "schema_valid": bool(result.output),
            "checks_passed": result.status == "succeeded",
            "grounded": statistics.mean(rates) if rates else None,
            "expected": expected_found(case, result.output, result.variant),
            "seconds": result.latency_ms / 1000, "speech_to_first_token_s":
            result.speech_to_first_token_ms / 1000 if result.speech_to_first_token_ms is not None else None,
            "failed": [f"{c.check}: {c.detail}" for c in result.checks if not c.passed], "tokens":
            result.prompt_tokens + result.completion_tokens}


def run_scorecard(home: Home, pool: EnginePool, tenant_id: str, models: list[str], apps: list[str] | None = None,
                  limit: int | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    rows, cases_out = [], []
    for app in apps or list(APPS):
        if app not in APPS:
            raise ValueError(f"no eval set for app {app!r}; apps with eval sets are {', '.join(APPS)}")
        cases = pick_cases(load_cases(app), limit)
        for model in models:
            scored = []
            for number, case in enumerate(cases, start=1):
                if progress:
                    progress(f"{app} · {model} · case {number}/{len(cases)}")
                scored.append(score_case(home, pool, tenant_id, app, model, case))
            grounded = [s["grounded"] for s in scored if s["grounded"] is not None]
            speech = [s["speech_to_first_token_s"] for s in scored if s.get("speech_to_first_token_s") is not None]
            rows.append({
                "app": app, "model": model, "cases": len(scored),
                "schema_valid": statistics.mean(s["schema_valid"] for s in scored),
                "checks_passed": statistics.mean(s["checks_passed"] for s in scored),
                "grounded": statistics.mean(grounded) if grounded else None,
                "expected": statistics.mean(s["expected"] for s in scored),
                "seconds": statistics.mean(s["seconds"] for s in scored),
                "speech_to_first_token_s": statistics.mean(speech) if speech else None,
            })
            cases_out += [{"app": app, "model": model, **s} for s in scored]
    return {"rows": rows, "cases": cases_out}
