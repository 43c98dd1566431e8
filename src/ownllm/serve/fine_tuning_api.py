"""`/v1/fine_tuning/jobs` in OpenAI's shape, over ownllm's synth datasets and tuning runs.

`training_file` names a synth dataset (`ds_…`); or give `corpus_version` and the job first
synthesizes a dataset from that version, then tunes. ownllm extensions: `recipe`,
`hyperparameters.max_steps` and `recipe_overrides` (dotted keys, as `ownllm tune --set`).
Training runs in a background thread of the server; progress, events and checkpoints are read
back from the catalog, so any server process (or the CLI) sees the same state.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from ownllm.corpus.versions import get_version
from ownllm.errors import InvalidInput, NotFound
from ownllm.jobs.tracker import JobTracker, cancel_job, get_job, job_events
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.serve.auth import Owner
from ownllm.store.catalog import Job
from ownllm.store.home import Home
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import get_dataset
from ownllm.tune.recipe import load_recipe
from ownllm.tune.run import JOB_KIND, TuneRequest, tune

router = APIRouter(prefix="/v1/fine_tuning")
_METHOD_RECIPES = {"supervised": "sft-lora", "raft": "raft-lora", "continued_pretraining": "cpt-lora"}


class Hyperparameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_epochs: float | None = Field(None, gt=0)
    learning_rate_multiplier: float | None = Field(None, gt=0)
    batch_size: int | None = Field(None, ge=1)
    max_steps: int | None = Field(None, ge=1)  # ownllm extension


class FineTuningJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    training_file: str | None = None  # a synth dataset id
    corpus_version: str | None = None  # or: synthesize from this version first
    method: dict[str, Any] | None = None
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = Field(None, max_length=40)
    seed: int | None = None
    recipe: str | None = None  # ownllm extension
    recipe_overrides: dict[str, Any] = Field(default_factory=dict)  # ownllm extension
    synth: dict[str, Any] = Field(default_factory=dict)  # ownllm extension: SynthConfig, with corpus_version


def _home(request: Request) -> Home:
    return request.app.state.home


def _job_object(job: Job) -> dict[str, Any]:
    params, result = job.params or {}, job.result or {}
    return {
        "object": "fine_tuning.job", "id": job.id, "model": params.get("base_model"),
        "created_at": int(job.created_at.timestamp()),
        "finished_at": int(job.finished_at.timestamp()) if job.finished_at else None,
        "fine_tuned_model": result.get("fine_tuned_model"), "organization_id": job.tenant_id,
        "status": job.status, "training_file": params.get("dataset_id"), "validation_file": None,
        "hyperparameters": params.get("hyperparameters", {}), "method": {"type": params.get("method", "supervised")},
        "result_files": [], "trained_tokens": result.get("trained_tokens"), "seed": params.get("seed"),
        "error": {"message": job.error, "code": "job_failed", "param": None} if job.error else None,
        "estimated_finish": None, "integrations": [],
        "progress": {"done": job.progress_done, "total": job.progress_total, "stage": job.stage},
        "recipe": params.get("recipe_name"), "loss_curve": result.get("loss_curve"),
    }


def _overrides(body: FineTuningJobRequest, base_lr: list[float]) -> dict[str, Any]:
    hp, overrides = body.hyperparameters, dict(body.recipe_overrides)
    if hp.n_epochs is not None:
        overrides["stages.*.epochs"] = hp.n_epochs
    if hp.max_steps is not None:
        overrides["stages.*.max_steps"] = hp.max_steps
    if hp.batch_size is not None:
        overrides["training.batch_size"] = hp.batch_size
    if hp.learning_rate_multiplier is not None:
        for index, lr in enumerate(base_lr):
            overrides[f"stages.{index}.learning_rate"] = lr * hp.learning_rate_multiplier
    if body.seed is not None:
        overrides["training.seed"] = body.seed
    return overrides


def _run(home: Home, tenant_id: str, body: FineTuningJobRequest, request: TuneRequest, tracker: JobTracker) -> None:
    from ownllm.synth.run import synthesize

    try:
        if request.dataset is None:
            tracker.event("synthesizing a dataset from corpus version", corpus=body.corpus_version)
            synth_tracker = JobTracker.create(home, "synth", tenant_id, params={"for_job": tracker.job_id})
            request.dataset = synthesize(home, tenant_id, SynthConfig(**body.synth),
                                         corpus=body.corpus_version or "latest", tracker=synth_tracker).id
        tune(home, tenant_id, request, tracker=tracker)
    except Exception as exc:  # tune() records its own failures; this covers synthesis
        if get_job(home, tracker.job_id).status not in ("failed", "cancelled"):
            tracker.fail(f"{type(exc).__name__}: {exc}")


@router.post("/jobs")
def create_job(body: FineTuningJobRequest, request: Request, owner: Owner) -> dict[str, Any]:
    home = _home(request)
    if body.model not in SHIPPED_MODELS:
        raise InvalidInput(f"model {body.model!r} cannot be fine-tuned here; base models: {', '.join(SHIPPED_MODELS)}",
                           param="model")
    method = (body.method or {}).get("type", "supervised")
    recipe_name = body.recipe or _METHOD_RECIPES.get(method)
    if recipe_name is None:
        raise InvalidInput(f"unknown method type {method!r}; use {', '.join(_METHOD_RECIPES)}", param="method")
    base_recipe = load_recipe(recipe_name)
    overrides = _overrides(body, [s.learning_rate for s in base_recipe.stages])
    recipe = load_recipe(recipe_name, overrides)  # a bad override is a 400 now, not a failed job later
    try:
        SynthConfig(**body.synth)
    except ValidationError as exc:
        keys = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise InvalidInput(f"synth options: bad or unknown key(s) {keys}", param="synth") from exc
    dataset_id = None
    if body.training_file:
        dataset_id = get_dataset(home, owner.tenant_id, body.training_file).id
    elif body.corpus_version:
        get_version(home, owner.tenant_id, body.corpus_version)
    else:
        raise InvalidInput("give training_file (a dataset id from `ownllm synth`) or corpus_version",
                           param="training_file")
    tune_request = TuneRequest(recipe=recipe_name, base_model=body.model, dataset=dataset_id, overrides=overrides,
                               suffix=body.suffix or "company")
    params = {"base_model": body.model, "dataset_id": dataset_id, "recipe_name": recipe.name, "method": method,
              "hyperparameters": body.hyperparameters.model_dump(exclude_none=True), "seed": recipe.training.seed,
              "suffix": tune_request.suffix}
    tracker = JobTracker.create(home, JOB_KIND, owner.tenant_id, params=params)
    tracker.set_status("validating_files")
    threading.Thread(target=_run, args=(home, owner.tenant_id, body, tune_request, tracker), daemon=True).start()
    return _job_object(get_job(home, tracker.job_id))


@router.get("/jobs")
def list_jobs(request: Request, owner: Owner) -> dict[str, Any]:
    with _home(request).catalog.session() as session:
        jobs = session.scalars(select(Job).where(Job.tenant_id == owner.tenant_id, Job.kind == JOB_KIND)
                               .order_by(Job.created_at.desc()))
        return {"object": "list", "data": [_job_object(j) for j in jobs], "has_more": False}


@router.get("/jobs/{job_id}")
def retrieve_job(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    return _job_object(_own_job(request, owner, job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    _own_job(request, owner, job_id)
    return _job_object(cancel_job(_home(request), job_id, owner.tenant_id))


@router.get("/jobs/{job_id}/events")
def events(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    _own_job(request, owner, job_id)
    data = [{"object": "fine_tuning.job.event", "id": str(e.id), "created_at": int(e.created_at.timestamp()),
             "level": e.level, "message": e.message, "data": e.data,
             "type": "metrics" if e.message == "step" else "message"}
            for e in job_events(_home(request), job_id)]
    return {"object": "list", "data": list(reversed(data)), "has_more": False}


@router.get("/jobs/{job_id}/checkpoints")
def checkpoints(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    job = _own_job(request, owner, job_id)
    all_events = job_events(_home(request), job_id)
    losses = {e.data.get("step"): e.data.get("loss") for e in all_events if e.message == "step"}
    data = [{"object": "fine_tuning.job.checkpoint", "id": f"ckpt-{job_id}-{e.data['step']}",
             "created_at": int(e.created_at.timestamp()), "fine_tuning_job_id": job.id,
             "step_number": e.data["step"],
             "metrics": {"step": e.data["step"], "train_loss": losses.get(e.data["step"])},
             "fine_tuned_model_checkpoint": e.data.get("path")}
            for e in all_events if e.message == "checkpoint saved"]
    return {"object": "list", "data": list(reversed(data)), "has_more": False}


def _own_job(request: Request, owner: Owner, job_id: str) -> Job:
    job = get_job(_home(request), job_id, owner.tenant_id)
    if job.kind != JOB_KIND:
        raise NotFound(f"fine-tuning job {job_id!r} does not exist", param="fine_tuning_job_id")
    return job
