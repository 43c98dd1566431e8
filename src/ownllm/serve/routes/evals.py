"""`/v1/evals` (ownllm extension): run an evaluation as a background job and read its report."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ownllm.errors import NotFound
from ownllm.jobs.tracker import get_job
from ownllm.serve.auth import TuningOwner
from ownllm.serve.deps import HomeDep, RuntimeDep
from ownllm.serve.protocol import EvalCreate, EvalObject
from ownllm.services.browse import report_folder
from ownllm.services.evaluation import create_eval_job
from ownllm.store.catalog import Job
from ownllm.store.statuses import JobKind

router = APIRouter(prefix="/v1/evals")
KIND = JobKind.EVAL


def eval_object(job: Job) -> EvalObject:
    result = job.result or {}
    return EvalObject(id=job.id, status=job.status, created_at=int(job.created_at.timestamp()),
                      progress={"done": job.progress_done, "total": job.progress_total, "stage": job.stage},
                      models=(job.params or {}).get("models"), summary=result.get("summary"), gate=result.get("gate"),
                      report_url=f"/v1/evals/{job.id}/report" if result.get("report") else None, error=job.error)


@router.post("")
def create_eval(body: EvalCreate, owner: TuningOwner, runtime: RuntimeDep) -> EvalObject:
    job_id = create_eval_job(runtime, owner.tenant_id, body.models, body.dataset,
                             [q.model_dump() for q in body.questions], body.limit)
    return eval_object(get_job(runtime.home, job_id))


@router.get("/{eval_id}")
def retrieve_eval(eval_id: str, owner: TuningOwner, home: HomeDep) -> EvalObject:
    return eval_object(get_job(home, eval_id, owner.tenant_id, KIND))


@router.get("/{eval_id}/report", response_class=HTMLResponse)
def eval_report(eval_id: str, owner: TuningOwner, home: HomeDep) -> HTMLResponse:
    job = get_job(home, eval_id, owner.tenant_id, KIND)
    folder = report_folder(home, job)
    path = folder / "report.html" if folder else None
    if path is None or not path.exists():
        raise NotFound(f"eval {eval_id!r} has no report yet (status {job.status})", param="eval_id")
    return HTMLResponse(path.read_text(encoding="utf-8"))
