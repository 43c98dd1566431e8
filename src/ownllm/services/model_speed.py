"""Measured speed of each installed model on this machine, for `ownllm models`.

A speed copied from elsewhere says nothing about this box, so `ownllm models --measure` times each
installed model here: a fixed ~200-token prompt (prompt tokens/s) and 64 generated tokens (decode
tokens/s), one request, greedy. Results are kept next to the model cache with the date and the load
average, so the listing shows them without reloading every model.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ownllm.inference.engine import EngineSpec, SamplingParams
from ownllm.inference.pool import EnginePool
from ownllm.models.hub import SHIPPED_MODELS, ShippedModel, model_cache

PROMPT = ("Veltrano Mobility sells electric bikes and scooters. " * 18).strip() + \
    "\nWrite a short paragraph about electric bikes in cities."


def speeds_path() -> Path:
    return model_cache() / "speeds.json"


def recorded_speeds() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(speeds_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def measure(pool: EnginePool, model: ShippedModel, n_threads: int | None = None) -> dict[str, Any]:
    """One streamed request: prompt tokens/s up to the first token, decode tokens/s after it."""
    handle = pool.handle(EngineSpec(model.locate(), None, 2048, False, n_threads, 1))
    handle.generate(handle.chat_prompt([{"role": "user", "content": "Hi"}]),
                    SamplingParams(max_tokens=1, temperature=0.0))  # weights paged in, not timed
    prompt = handle.chat_prompt([{"role": "user", "content": PROMPT}])
    started = time.monotonic()
    out = handle.generate(prompt, SamplingParams(max_tokens=64, temperature=0.0))
    ended = time.monotonic()
    first = out.first_token_at or ended
    return {"prompt_tokens_per_s": round(out.prompt_tokens / max(1e-6, first - started), 1),
            "decode_tokens_per_s": round(max(1, out.completion_tokens - 1) / max(1e-6, ended - first), 1),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": round(os.getloadavg()[0], 2), "threads": n_threads or os.cpu_count()}


def measure_installed(pool: EnginePool, n_threads: int | None = None,
                      only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    speeds = recorded_speeds()
    for model in SHIPPED_MODELS.values():
        if model.installed and (not only or model.id in only):
            speeds[model.id] = measure(pool, model, n_threads)  # the pool's memory bound unloads older ones
    path = speeds_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(speeds, indent=1), encoding="utf-8")
    return speeds
