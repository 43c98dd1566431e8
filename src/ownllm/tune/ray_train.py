"""Tuning on Ray Train: the same recipe and the same trainer, data-parallel over `OWNLLM_RAY_WORKERS` workers.

Ray Train's `TorchTrainer` starts the workers and their gloo process group; each worker runs the ordinary
`LoraTrainer` with its `DataParallel` place, so the steps, learning rates and checkpoints are the one-worker
ones (see `DataParallel` for why the curves agree). The leader (rank 0) writes checkpoints into the run
folder, reports each one to Ray (which copies it under the run's Ray storage path), and records progress on
the job. A worker that dies makes Ray restart the group (`FailureConfig`), and the restarted workers resume
from the last checkpoint, so a killed worker costs the steps since that checkpoint, not the run.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ownllm.errors import Cancelled, OwnLLMError
from ownllm.jobs.ray_cluster import ensure_ray, ray_storage
from ownllm.jobs.tracker import JobTracker, job_events
from ownllm.store.home import Home
from ownllm.store.statuses import EventType
from ownllm.tune.checkpoints import checkpoint_dir, list_checkpoints
from ownllm.tune.job_progress import checkpoint_recorder, step_reporter
from ownllm.tune.plan import TunePlan
from ownllm.tune.train import DataParallel, StepInfo, TrainResult

RESULT_FILE = "train_result.json"
CANCELLED_FILE = "cancelled"
RESTARTS = 2  # a worker group may be restarted this often after a worker dies


def _restore_from_ray(run_dir: Path, rank: int) -> None:
    """After a restart on another machine, the run folder may lack the checkpoint Ray kept: every worker brings
    it back (each must resume from the same step), copying aside and renaming so workers sharing a folder do
    not see half a copy."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None or list_checkpoints(run_dir):
        return
    with checkpoint.as_directory() as folder:
        target = checkpoint_dir(run_dir) / Path(folder).name
        staging = target.with_name(f".{target.name}.restore-{rank}")
        shutil.copytree(folder, staging, dirs_exist_ok=True)
        try:
            staging.rename(target)
        except OSError:  # another worker on this machine restored it first
            shutil.rmtree(staging, ignore_errors=True)


def _worker(config: dict[str, Any]) -> None:
    """One Ray Train worker: load the base, build the same blocks, train its share, lead or follow."""
    import ray.train

    from ownllm.config import Settings
    from ownllm.store.home import open_home
    from ownllm.tune.base import load_base
    from ownllm.tune.stage_blocks import training_blocks_for
    from ownllm.tune.train import LoraTrainer, add_lora, training_dtype

    context = ray.train.get_context()
    parallel = DataParallel(context.get_world_rank(), context.get_world_size())
    plan: TunePlan = config["plan"]
    run_dir = Path(config["run_dir"])
    recipe = plan.recipe
    settings = Settings.model_validate_json(config["settings"])
    base = load_base(plan.request.base_model, training_dtype(recipe))
    stage_blocks, anchors = training_blocks_for(base.tokenizer, plan.files, recipe)
    model = add_lora(base.model, recipe)
    _restore_from_ray(run_dir, parallel.rank)
    tracker = None
    if parallel.leader:  # only the leader writes to the job
        tracker = JobTracker(open_home(settings, migrate=False), config["job_id"])
    record_checkpoint = checkpoint_recorder(tracker) if tracker is not None else None

    def checkpointed(path: Path | None, step: int) -> None:
        checkpoint = ray.train.Checkpoint.from_directory(str(path)) if path is not None else None
        ray.train.report({"global_step": step}, checkpoint=checkpoint)  # every worker, the same number of times
        if record_checkpoint is not None:
            record_checkpoint(path, step)

    trainer = LoraTrainer(model, recipe, run_dir, base.pad_id,
                          on_step=step_reporter(tracker, config["totals"], where=f" on {parallel.size} Ray workers")
                          if tracker is not None else None,
                          should_stop=tracker.cancelled if tracker is not None else None,
                          on_checkpoint=checkpointed, parallel=parallel)
    try:
        result = trainer.train(stage_blocks, anchors)
    except Cancelled:  # not a failure to retry: tell the driver and end normally
        if parallel.leader:
            (run_dir / CANCELLED_FILE).write_text("cancelled")
        return
    if parallel.leader:
        (run_dir / RESULT_FILE).write_text(json.dumps({
            "history": result.history, "steps": result.steps, "trained_tokens": result.trained_tokens,
            "seconds": result.seconds, "resumed_from": result.resumed_from}))


def _replay_steps(home: Home, job_id: str, plan: TunePlan, totals: list[int], seen: int,
                  on_step: Callable[[StepInfo], None] | None) -> int:
    """Call `on_step` (the CLI's progress bar) for the steps the leader recorded since `seen`; returns the count."""
    steps = job_events(home, job_id, EventType.STEP)
    if on_step is not None:
        for event in steps[seen:]:
            global_step, stage = int(event.data["step"]), 0
            while stage < len(totals) - 1 and global_step > sum(totals[: stage + 1]):
                stage += 1
            on_step(StepInfo(stage, plan.recipe.stages[stage].method, global_step - sum(totals[:stage]),
                             totals[stage], global_step, float(event.data["loss"]), float(event.data["lr"]),
                             float(event.data["tokens_per_s"])))
    return len(steps)


def train_on_ray(home: Home, plan: TunePlan, tracker: JobTracker, run_dir: Path, totals: list[int],
                 on_step: Callable[[StepInfo], None] | None = None) -> TrainResult:
    """Run the plan's training on Ray Train; returns what the leader trained (the adapter is the last checkpoint)."""
    ray = ensure_ray(home.settings)
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    workers = home.settings.ray_workers
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < workers:  # Ray would wait for them for ever
        raise OwnLLMError(f"OWNLLM_RAY_WORKERS={workers} training workers need {workers} CPUs; the Ray cluster has "
                          f"{cpus}", code="not_enough_cpus")
    for stale in (RESULT_FILE, CANCELLED_FILE):
        (run_dir / stale).unlink(missing_ok=True)
    storage_path, filesystem = ray_storage(home.settings, run_dir / "ray")
    tracker.event(f"training on Ray: {workers} data-parallel workers", checkpoints=storage_path)
    trainer = TorchTrainer(
        _worker,
        train_loop_config={"plan": plan, "run_dir": str(run_dir), "settings": home.settings.model_dump_json(),
                           "job_id": tracker.job_id, "totals": totals},
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=False, resources_per_worker={"CPU": 1}),
        run_config=RunConfig(name=tracker.job_id, storage_path=storage_path, storage_filesystem=filesystem,
                             failure_config=FailureConfig(max_failures=RESTARTS),
                             checkpoint_config=CheckpointConfig(num_to_keep=2)),
    )
    failure: list[BaseException] = []

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:
            failure.append(exc)

    running = threading.Thread(target=fit, name="ray train driver", daemon=True)
    running.start()
    seen = 0
    while running.is_alive():  # the leader records steps on the job; follow them for `on_step`
        running.join(timeout=1.0)
        seen = _replay_steps(home, tracker.job_id, plan, totals, seen, on_step)
    if failure:
        exc = failure[0]
        raise OwnLLMError(f"training on Ray failed: {type(exc).__name__}: {exc}") from exc
    if (run_dir / CANCELLED_FILE).exists():
        raise Cancelled("the tuning run was cancelled between steps")
    if not (run_dir / RESULT_FILE).exists():
        raise OwnLLMError("training on Ray ended without a result from its leader worker")
    saved = json.loads((run_dir / RESULT_FILE).read_text())
    return TrainResult(history=saved["history"], steps=saved["steps"], trained_tokens=saved["trained_tokens"],
                       seconds=saved["seconds"], resumed_from=saved["resumed_from"])
