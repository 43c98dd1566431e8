"""`ownllm tune`: one tuning run as a job with the OpenAI fine-tuning lifecycle.

validating_files → queued → running → succeeded | failed | cancelled. The run folder holds
checkpoints, the final adapter, the loss curve and `run.json` (lineage). Re-running the same
command after a kill finds the interrupted job by its inputs and resumes from its last
checkpoint; the result is the same adapter an uninterrupted run makes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from ownllm.errors import Cancelled
from ownllm.jobs.ray_cluster import on_ray
from ownllm.jobs.runner import run_inline
from ownllm.jobs.tracker import INTERRUPTED, JobTracker, get_job, mark_interrupted
from ownllm.store.catalog import Job
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind, JobStatus
from ownllm.store.tenants import get_tenant
from ownllm.tune.checkpoints import list_checkpoints, load_checkpoint
from ownllm.tune.job_progress import checkpoint_recorder, step_reporter
from ownllm.tune.plan import TunePlan, TuneRequest, plan_tune, resume_key, run_root
from ownllm.tune.register import model_name, register_tuned_model
from ownllm.tune.stage_blocks import training_blocks_for
from ownllm.tune.train import (
    LoraTrainer,
    StepInfo,
    TrainResult,
    add_lora,
    steps_in_stage,
    training_dtype,
    uses_bf16,
    with_precision_decided,
)

JOB_KIND = JobKind.FINE_TUNE
__all__ = ["JOB_KIND", "TuneOutcome", "TuneRequest", "plan_tune", "run_root", "tune", "tune_into"]


@dataclass
class TuneOutcome:
    job_id: str
    status: str
    model_id: str | None
    run_dir: Path
    result: TrainResult | None


def find_resumable(home: Home, tenant_id: str, plan: TunePlan) -> str | None:
    """The tenant's newest interrupted run of this plan: its stored key matches, or the key recomputed from the
    inputs the job recorded does, so a run keyed before the key changed (say, before it stopped covering the
    recipe's description) is still found."""
    mark_interrupted(home, tenant_id, JOB_KIND)
    with home.catalog.session() as session:
        jobs = session.scalars(select(Job).where(Job.tenant_id == tenant_id, Job.kind == JOB_KIND,
                                                 Job.status == JobStatus.FAILED).order_by(Job.created_at.desc()))
        for job in jobs:
            params = job.params or {}
            recorded = {name: params.get(name) for name in plan.params}
            if (job.error or "").startswith(INTERRUPTED) and plan.key in (params.get("run_key"), resume_key(recorded)):
                return job.id
    return None


def tune(home: Home, tenant_id: str, request: TuneRequest, on_step: Callable[[StepInfo], None] | None = None,
         tracker: JobTracker | None = None) -> TuneOutcome:
    """Tune in this process as one job; re-running after a kill resumes the interrupted run."""
    plan = plan_tune(home, tenant_id, request)
    if tracker is None:
        resumable = find_resumable(home, tenant_id, plan)
        if resumable:
            tracker = JobTracker(home, resumable)
            tracker.reopen("resuming an interrupted run from its last checkpoint")
        else:
            tracker = JobTracker.create(home, JOB_KIND, tenant_id, params={**plan.params, "run_key": plan.key})
    try:
        return run_inline(home, JOB_KIND, tenant_id, lambda t: tune_into(home, tenant_id, plan, t, on_step),
                          tracker=tracker)
    except Cancelled:
        return TuneOutcome(tracker.job_id, JobStatus.CANCELLED, None, run_root(home, tenant_id) / tracker.job_id, None)


def tune_into(home: Home, tenant_id: str, plan: TunePlan, tracker: JobTracker,
              on_step: Callable[[StepInfo], None] | None = None) -> TuneOutcome:
    """Train, then register; the caller owns the job record and its failure policy."""
    from ownllm.tune.base import load_base
    from ownllm.tune.curve import draw_loss_curve

    request, recipe = plan.request, plan.recipe
    tracker.update_params(**plan.params, run_key=plan.key)
    run_dir = run_root(home, tenant_id) / tracker.job_id
    run_dir.mkdir(parents=True, exist_ok=True)
    tracker.set_status(JobStatus.VALIDATING_FILES)
    recorded = get_job(home, tracker.job_id).params.get("precision") if list_checkpoints(run_dir) else None
    plan = replace(plan, recipe=with_precision_decided(recipe, recorded))  # Ray's workers train as decided here
    recipe = plan.recipe
    base = load_base(request.base_model, training_dtype(recipe))
    precision = "bf16" if uses_bf16(recipe) else "float32"  # what "auto" settled on, recorded for a resume
    tracker.update_params(precision=precision)
    stage_blocks, anchors = training_blocks_for(base.tokenizer, plan.files, recipe)
    tracker.event("files validated", blocks=[len(b) for b in stage_blocks],
                  tokens=[sum(len(x.input_ids) for x in b) for b in stage_blocks],
                  anchor_blocks=[len(b) for b in anchors])
    for index, stage in enumerate(recipe.stages):
        if stage.kl_to_base and not anchors[index]:
            tracker.event(f"stage {index + 1}: kl_to_base has no replay records to anchor on in "
                          f"{plan.files[index].name}; the stage trains without it")
    tracker.set_status(JobStatus.QUEUED)
    totals = [steps_in_stage(len(b), recipe, i) for i, b in enumerate(stage_blocks)]
    tracker.start(total=sum(totals))
    model = add_lora(base.model, recipe)
    params = dict(plan.params, precision=precision)
    if on_ray(home.settings):  # the same trainer on Ray Train's workers; the adapter is their last checkpoint
        from peft import set_peft_model_state_dict

        from ownllm.tune.ray_train import train_on_ray

        params.update(runner="ray", workers=home.settings.ray_workers)
        tracker.update_params(runner="ray", workers=home.settings.ray_workers)
        result = train_on_ray(home, plan, tracker, run_dir, totals, on_step)
        set_peft_model_state_dict(model, load_checkpoint(list_checkpoints(run_dir)[-1])["adapter"])
    else:
        params.update(runner="local", workers=1)
        trainer = LoraTrainer(model, recipe, run_dir, base.pad_id, on_step=step_reporter(tracker, totals, on_step),
                              should_stop=tracker.cancelled, on_checkpoint=checkpoint_recorder(tracker))
        result = trainer.train(stage_blocks, anchors)
    adapter_dir = run_dir / "adapter"
    model.save_pretrained(adapter_dir)
    base.tokenizer.save_pretrained(adapter_dir)
    curve = draw_loss_curve(result.history, run_dir / "loss_curve.png", f"{recipe.name} on {request.base_model}")
    model_id = model_name(base.id, get_tenant(home, tenant_id).name, request.suffix, tracker.job_id)
    merged_dir = None
    if request.merge:  # into the float32 weights: a bf16 training copy would round the merged model
        from ownllm.tune.base import float32_weights_folder
        from ownllm.tune.merge import merge_adapter_dir

        merged_dir = merge_adapter_dir(float32_weights_folder(request.base_model),
                                       adapter_dir, run_dir / "merged")
    job_result = register_tuned_model(home, tenant_id, model_id, request.base_model, base.source, params, run_dir,
                                      adapter_dir, merged_dir, result, curve, tracker, request.export_adapter)
    tracker.succeed(job_result)
    return TuneOutcome(tracker.job_id, JobStatus.SUCCEEDED, model_id, run_dir, result)
