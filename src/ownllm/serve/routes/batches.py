"""`/v1/batches` (OpenAI's Batch API): create from an uploaded `batch` JSONL, retrieve, list, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ownllm.jobs.tracker import cancel_job, get_job, list_jobs
from ownllm.serve.auth import Owner
from ownllm.serve.deps import HomeDep, RuntimeDep
from ownllm.serve.protocol import BatchCreate
from ownllm.services.batches import create_batch
from ownllm.store.catalog import Job
from ownllm.store.statuses import JobKind

router = APIRouter(prefix="/v1/batches")
KIND = JobKind.BATCH
_STATUS = {"queued": "validating", "running": "in_progress", "succeeded": "completed", "failed": "failed",
           "cancelled": "cancelled"}


def _ts(moment: Any) -> int | None:
    return int(moment.timestamp()) if moment else None


def batch_object(job: Job) -> dict[str, Any]:
    params, result = job.params or {}, job.result or {}
    counts = result.get("request_counts") or {"total": job.progress_total, "completed": job.progress_done,
                                              "failed": 0}
    return {"id": job.id, "object": "batch", "endpoint": params.get("endpoint"),
            "errors": {"object": "list", "data": [{"code": "batch_failed", "message": job.error}]} if job.error
            else None,
            "input_file_id": params.get("input_file_id"), "completion_window": params.get("completion_window", "24h"),
            "status": _STATUS.get(job.status, job.status), "output_file_id": result.get("output_file_id"),
            "error_file_id": result.get("error_file_id"), "created_at": _ts(job.created_at),
            "in_progress_at": _ts(job.started_at), "completed_at": _ts(job.finished_at) if job.status == "succeeded"
            else None, "failed_at": _ts(job.finished_at) if job.status == "failed" else None,
            "cancelled_at": _ts(job.finished_at) if job.status == "cancelled" else None,
            "expires_at": None, "request_counts": counts, "metadata": params.get("metadata") or {}}


@router.post("")
def create(body: BatchCreate, owner: Owner, runtime: RuntimeDep) -> dict[str, Any]:
    job_id = create_batch(runtime, owner.tenant_id, body.input_file_id, body.endpoint, body.metadata)
    return batch_object(get_job(runtime.home, job_id))


@router.get("")
def list_batches(owner: Owner, home: HomeDep) -> dict[str, Any]:
    return {"object": "list", "data": [batch_object(j) for j in list_jobs(home, owner.tenant_id, KIND)],
            "has_more": False}


@router.get("/{batch_id}")
def retrieve(batch_id: str, owner: Owner, home: HomeDep) -> dict[str, Any]:
    return batch_object(get_job(home, batch_id, owner.tenant_id, KIND))


@router.post("/{batch_id}/cancel")
def cancel(batch_id: str, owner: Owner, home: HomeDep) -> dict[str, Any]:
    return batch_object(cancel_job(home, batch_id, owner.tenant_id, KIND))
