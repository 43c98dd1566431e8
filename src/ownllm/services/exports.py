"""GGUF export of a tuned model as a background job (merging and writing a model file takes minutes),
for any transport; the finished file is then downloadable by its owner only."""

from __future__ import annotations

from ownllm.errors import InvalidInput
from ownllm.jobs.tracker import JobTracker
from ownllm.services.runtime import Runtime
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind
from ownllm.tune.export import get_tuned
from ownllm.tune.export_gguf import QUANTS

JOB = "ownllm.services.exports:export_job"


def create_export_job(runtime: Runtime, tenant_id: str, model_id: str, quant: str = "q8_0") -> str:
    get_tuned(runtime.home, model_id, tenant_id)  # another tenant's model is not found
    if quant not in QUANTS:
        raise InvalidInput(f"unknown quantization {quant!r}; choose one of {', '.join(QUANTS)}", param="quant")
    return runtime.require_runner().submit(JobKind.EXPORT, tenant_id, JOB, {"model_id": model_id, "quant": quant},
                                           job_params={"model": model_id, "quant": quant})


def export_job(home: Home, tenant_id: str, tracker: JobTracker, *, model_id: str, quant: str) -> None:
    from ownllm.tune.export import export_model

    get_tuned(home, model_id, tenant_id)
    tracker.start(1)
    tracker.progress(0, 1, "merging and writing GGUF", model_id)
    path = export_model(home, model_id, quant)
    tracker.succeed({"model": model_id, "quant": quant, "file": path.name, "bytes": path.stat().st_size})
