"""The cost report: tokens and CPU-seconds per model (serving) and per job kind (ingest, synth, tune,
eval, batch), priced with the operator's table (`OWNLLM_PRICES`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ownllm.store.home import Home
from ownllm.store.usage import job_cpu_by_kind, usage_summary


def _price(prices: dict[str, dict[str, float]], name: str) -> dict[str, float]:
    return prices.get(name) or prices.get("*") or {}


def cost_report(home: Home, tenant_id: str | None, days: int = 30) -> dict[str, Any]:
    prices = home.settings.prices
    models = []
    for row in usage_summary(home, tenant_id, "model", days):
        price = _price(prices, row["group"] or "")
        cost = (row["prompt_tokens"] / 1000 * price.get("prompt", 0.0)
                + row["completion_tokens"] / 1000 * price.get("completion", 0.0)
                + row["cpu_seconds"] * price.get("cpu_second", 0.0))
        models.append({"model": row["group"], "requests": row["requests"], "prompt_tokens": row["prompt_tokens"],
                       "completion_tokens": row["completion_tokens"], "cpu_seconds": row["cpu_seconds"],
                       "cost": round(cost, 6)})
    jobs = []
    for kind, row in sorted(job_cpu_by_kind(home, tenant_id, days).items()):
        price = _price(prices, kind)
        jobs.append({"kind": kind, "jobs": row["jobs"], "cpu_seconds": row["cpu_seconds"],
                     "cost": round(row["cpu_seconds"] * price.get("cpu_second", 0.0), 6)})
    total = sum(m["cost"] for m in models) + sum(j["cost"] for j in jobs)
    return {"days": days, "serving": models, "jobs": jobs, "total": round(total, 6)}


def draw_usage_chart(days: list[dict[str, Any]], path: Path) -> Path:
    """Prompt and completion tokens per day, stacked, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(row["group"]) for row in days]
    prompt = [row["prompt_tokens"] for row in days]
    completion = [row["completion_tokens"] for row in days]
    fig, ax = plt.subplots(figsize=(8, 3.5), dpi=110)
    ax.bar(labels, prompt, label="prompt tokens")
    ax.bar(labels, completion, bottom=prompt, label="completion tokens")
    ax.set_ylabel("tokens")
    ax.set_title("tokens per day")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
