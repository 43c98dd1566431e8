"""Evaluation jobs for any transport: models and questions are checked before the job exists."""

from __future__ import annotations

from typing import Any

from ownllm.evaluate.questions import question_from_row
from ownllm.evaluate.run import EvalRequest, eval_models, eval_questions, evaluate_into
from ownllm.inference.pool import shared_pool
from ownllm.jobs.tracker import JobTracker
from ownllm.services.runtime import Runtime
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind

JOB = "ownllm.services.evaluation:eval_job"


def _request(models: list[str] | None, dataset: str | None, questions: list[dict[str, Any]],
             limit: int | None) -> EvalRequest:
    parsed = [question_from_row(q, "user", f"questions[{i}]") for i, q in enumerate(questions)]
    return EvalRequest(models=models, dataset=dataset, questions=parsed, limit=limit)


def create_eval_job(runtime: Runtime, tenant_id: str, models: list[str] | None, dataset: str | None,
                    questions: list[dict[str, Any]], limit: int | None) -> str:
    home = runtime.home
    request = _request(models, dataset, questions, limit)
    resolved, reader = eval_models(home, tenant_id, request.models)  # unknown model / no questions: 4xx now
    eval_questions(home, tenant_id, request)
    return runtime.require_runner().submit(
        JobKind.EVAL, tenant_id, JOB, {"models": models, "dataset": dataset, "questions": questions, "limit": limit},
        job_params={"models": [m.id for m in resolved], "reader": reader.id if reader else None, "dataset": dataset})


def eval_job(home: Home, tenant_id: str, tracker: JobTracker, *, models: list[str] | None, dataset: str | None,
             questions: list[dict[str, Any]], limit: int | None) -> None:
    pool = shared_pool(home.settings.engine_memory_mb)
    evaluate_into(home, pool, tenant_id, _request(models, dataset, questions, limit), tracker)
