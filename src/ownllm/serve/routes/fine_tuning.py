"""`/v1/fine_tuning/jobs` in OpenAI's shape, over ownllm's synth datasets and tuning runs.

`training_file` names a synth dataset (`ds_…`); or give `corpus_version` and the job first
synthesizes a dataset from that version, then tunes. ownllm extensions: `recipe` (a shipped
recipe's *name*), `hyperparameters.max_steps`, `recipe_overrides` (dotted keys, as
`ownllm tune --set`) and `synth` options. Jobs run in worker processes; progress, events and
checkpoints are read back from the catalog, and paths in them are relative to the home.
"""

from __future__ import annotations

from fastapi import APIRouter

from ownllm.jobs.tracker import cancel_job, get_job, job_events, list_jobs
from ownllm.serve.auth import TuningOwner
from ownllm.serve.deps import HomeDep, RuntimeDep
from ownllm.serve.protocol import (
    Checkpoint,
    CheckpointList,
    EventList,
    FineTuningJob,
    FineTuningJobList,
    FineTuningJobRequest,
    JobEventObject,
)
from ownllm.services.fine_tuning import FineTuningSpec, create_fine_tuning_job
from ownllm.store.catalog import Job
from ownllm.store.statuses import EventType, JobKind

router = APIRouter(prefix="/v1/fine_tuning")
KIND = JobKind.FINE_TUNE


def job_object(job: Job) -> FineTuningJob:
    params, result = job.params or {}, job.result or {}
    return FineTuningJob(
        id=job.id, model=params.get("base_model"), created_at=int(job.created_at.timestamp()),
        finished_at=int(job.finished_at.timestamp()) if job.finished_at else None,
        fine_tuned_model=result.get("fine_tuned_model"), organization_id=job.tenant_id, status=job.status,
        training_file=params.get("training_file") or params.get("dataset_id"),
        hyperparameters=params.get("hyperparameters", {}),
        method={"type": params.get("method", "supervised")}, trained_tokens=result.get("trained_tokens"),
        seed=params.get("seed"),
        error={"message": job.error, "code": "job_failed", "param": None} if job.error else None,
        progress={"done": job.progress_done, "total": job.progress_total, "stage": job.stage},
        recipe=params.get("recipe_name"), loss_curve=result.get("loss_curve"))


@router.post("/jobs")
def create_job(body: FineTuningJobRequest, owner: TuningOwner, runtime: RuntimeDep) -> FineTuningJob:
    hp = body.hyperparameters
    spec = FineTuningSpec(
        model=body.model, training_file=body.training_file, corpus_version=body.corpus_version,
        method=(body.method or {}).get("type", "supervised"), n_epochs=hp.n_epochs,  # type: ignore[arg-type]
        learning_rate_multiplier=hp.learning_rate_multiplier, batch_size=hp.batch_size,  # type: ignore[arg-type]
        max_steps=hp.max_steps, suffix=body.suffix, seed=body.seed, recipe=body.recipe,
        recipe_overrides=body.recipe_overrides, synth=body.synth)
    job_id = create_fine_tuning_job(runtime, owner.tenant_id, spec)
    return job_object(get_job(runtime.home, job_id))


@router.get("/jobs")
def list_fine_tuning_jobs(owner: TuningOwner, home: HomeDep) -> FineTuningJobList:
    return FineTuningJobList(data=[job_object(j) for j in list_jobs(home, owner.tenant_id, KIND)])


@router.get("/jobs/{job_id}")
def retrieve_job(job_id: str, owner: TuningOwner, home: HomeDep) -> FineTuningJob:
    return job_object(get_job(home, job_id, owner.tenant_id, KIND))


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, owner: TuningOwner, home: HomeDep) -> FineTuningJob:
    return job_object(cancel_job(home, job_id, owner.tenant_id, KIND))


@router.get("/jobs/{job_id}/events")
def events(job_id: str, owner: TuningOwner, home: HomeDep) -> EventList:
    get_job(home, job_id, owner.tenant_id, KIND)
    data = [JobEventObject(object="fine_tuning.job.event", id=str(e.id), created_at=int(e.created_at.timestamp()),
                           level=e.level, type="metrics" if e.type == EventType.STEP else "message",
                           message=e.message, data=e.data)
            for e in job_events(home, job_id)]
    return EventList(data=list(reversed(data)))


@router.get("/jobs/{job_id}/checkpoints")
def checkpoints(job_id: str, owner: TuningOwner, home: HomeDep) -> CheckpointList:
    job = get_job(home, job_id, owner.tenant_id, KIND)
    losses = {e.data.get("step"): e.data.get("loss") for e in job_events(home, job_id, EventType.STEP)}
    model = (job.result or {}).get("fine_tuned_model") or f"ft:{(job.params or {}).get('base_model')}:{job.id}"
    data = [Checkpoint(id=f"ckpt-{job_id}-{e.data['step']}", created_at=int(e.created_at.timestamp()),
                       fine_tuning_job_id=job.id, step_number=e.data["step"],
                       metrics={"step": e.data["step"], "train_loss": losses.get(e.data["step"])},
                       fine_tuned_model_checkpoint=f"{model}:ckpt-step-{e.data['step']}")
            for e in job_events(home, job_id, EventType.CHECKPOINT)]
    return CheckpointList(data=list(reversed(data)))
