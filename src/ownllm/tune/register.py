"""Registering what a tuning run made: lineage on disk, the catalog row, and a GGUF LoRA so the
model is servable at once. Kept apart from training so a run can be trained in one place (a job
process, a Ray worker) and registered the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ownllm.jobs.tracker import JobTracker
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.store.catalog import TunedModel
from ownllm.store.home import Home
from ownllm.tune.lineage import code_version
from ownllm.tune.train import TrainResult


def model_name(base: str, tenant: str, suffix: str, job_id: str) -> str:
    clean = re.sub(r"[^a-zA-Z0-9_-]+", "-", suffix).strip("-")[:40] or "company"
    return f"ft:{base}:{tenant}:{clean}:{job_id.removeprefix('job_')[:8]}"


def register_tuned_model(home: Home, tenant_id: str, model_id: str, base_model: str, base_source: str,
                         params: dict[str, Any], run_dir: Path, adapter_dir: Path, merged_dir: Path | None,
                         result: TrainResult, curve: Path, tracker: JobTracker, export_adapter: bool) -> dict[str, Any]:
    """Write `run.json`, add the TunedModel row, export the adapter; returns the job's result."""
    lineage = {
        **params, "base_model_source": base_source, "code_version": code_version(), "job_id": tracker.job_id,
        "steps": len(result.history), "final_loss": result.final_loss, "resumed_from_step": result.resumed_from,
    }
    (run_dir / "run.json").write_text(json.dumps({"model": model_id, "lineage": lineage, "history": result.history},
                                                 indent=2, ensure_ascii=False), encoding="utf-8")
    with home.catalog.session() as session:
        session.add(TunedModel(id=model_id, tenant_id=tenant_id, base_model=base_model, job_id=tracker.job_id,
                               dataset_id=params["dataset_id"], corpus_version_id=params["corpus_version_id"],
                               adapter_path=str(adapter_dir), merged_path=str(merged_dir) if merged_dir else None,
                               lineage=lineage))
    adapter_gguf = None
    if export_adapter and base_model in SHIPPED_MODELS:
        from ownllm.tune.export import export_adapter as write_adapter

        adapter_gguf = write_adapter(home, model_id)  # servable at once: base GGUF + this LoRA
        tracker.event("adapter exported to GGUF and checked on llama.cpp", path=tracker.relative(adapter_gguf))
    return {"fine_tuned_model": model_id, "adapter_gguf": tracker.relative(adapter_gguf) if adapter_gguf else None,
            "adapter": tracker.relative(adapter_dir), "loss_curve": tracker.relative(curve),
            "final_loss": result.final_loss, "trained_tokens": result.trained_tokens,
            "merged": tracker.relative(merged_dir) if merged_dir else None}
