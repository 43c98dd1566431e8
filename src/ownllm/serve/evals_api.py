"""`/v1/evals` (ownllm extension): run an evaluation as a background job and read its report."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from ownllm.errors import NotFound
from ownllm.evaluate.questions import question_from_row
from ownllm.evaluate.run import JOB_KIND, EvalRequest, eval_models, eval_questions, evaluate
from ownllm.jobs.tracker import JobTracker, get_job
from ownllm.serve.auth import Owner
from ownllm.store.catalog import Job
from ownllm.store.home import Home

router = APIRouter(prefix="/v1/evals")


class EvalQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    answer: str | list[str]
    source: str | None = None


class EvalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[str] | None = None
    dataset: str | None = "latest"
    questions: list[EvalQuestion] = Field(default_factory=list)
    limit: int | None = Field(40, ge=1)


def _object(job: Job) -> dict[str, Any]:
    result = job.result or {}
    return {"object": "eval", "id": job.id, "status": job.status, "created_at": int(job.created_at.timestamp()),
            "progress": {"done": job.progress_done, "total": job.progress_total, "stage": job.stage},
            "models": (job.params or {}).get("models"), "summary": result.get("summary"),
            "gate": result.get("gate"), "report_url": f"/v1/evals/{job.id}/report" if result.get("report") else None,
            "error": job.error}


def _run(home: Home, tenant_id: str, request: EvalRequest, tracker: JobTracker) -> None:
    with contextlib.suppress(Exception):  # evaluate() has recorded the failure on the job
        evaluate(home, tenant_id, request, tracker=tracker)


@router.post("")
def create_eval(body: EvalCreate, request: Request, owner: Owner) -> dict[str, Any]:
    home: Home = request.app.state.home
    questions = [question_from_row(q.model_dump(), "user", f"questions[{i}]") for i, q in enumerate(body.questions)]
    eval_request = EvalRequest(models=body.models, dataset=body.dataset, questions=questions, limit=body.limit)
    models = eval_models(home, owner.tenant_id, body.models)  # unknown model / no questions: 4xx now
    eval_questions(home, owner.tenant_id, eval_request)
    tracker = JobTracker.create(home, JOB_KIND, owner.tenant_id,
                                params={"models": [m.id for m in models], "dataset": body.dataset})
    threading.Thread(target=_run, args=(home, owner.tenant_id, eval_request, tracker), daemon=True).start()
    return _object(get_job(home, tracker.job_id))


def _own(request: Request, owner: Owner, eval_id: str) -> Job:
    job = get_job(request.app.state.home, eval_id, owner.tenant_id)
    if job.kind != JOB_KIND:
        raise NotFound(f"eval {eval_id!r} does not exist", param="eval_id")
    return job


@router.get("/{eval_id}")
def retrieve_eval(eval_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    return _object(_own(request, owner, eval_id))


@router.get("/{eval_id}/report", response_class=HTMLResponse)
def eval_report(eval_id: str, request: Request, owner: Owner) -> HTMLResponse:
    job = _own(request, owner, eval_id)
    path = (job.result or {}).get("report")
    if not path or not Path(path).exists():
        raise NotFound(f"eval {eval_id!r} has no report yet (status {job.status})", param="eval_id")
    return HTMLResponse(Path(path).read_text(encoding="utf-8"))
