"""What a training run tells its job: progress and a step event per optimizer step, an event per checkpoint.
One place for it, whether the trainer runs in the job's process or as the leader of Ray Train's workers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ownllm.jobs.tracker import CheckpointEvent, JobTracker, StepEvent
from ownllm.tune.train import StepInfo


def step_reporter(tracker: JobTracker, totals: list[int], on_step: Callable[[StepInfo], None] | None = None,
                  where: str = "") -> Callable[[StepInfo], None]:
    """Records each step on the job (progress over all stages, the loss); `where` says where it ran."""

    def report(info: StepInfo) -> None:
        done = sum(totals[: info.stage]) + info.step
        tracker.progress(done, sum(totals), f"stage {info.stage + 1} {info.method}",
                         f"step {info.step}/{info.total}{where}")
        tracker.record(StepEvent(info.global_step, round(info.loss, 5), info.lr, round(info.tokens_per_s, 1)))
        if on_step is not None:
            on_step(info)

    return report


def checkpoint_recorder(tracker: JobTracker) -> Callable[[Path | None, int], None]:
    """Records each checkpoint the trainer wrote (data-parallel followers write none: their path is None)."""

    def checkpointed(path: Path | None, step: int) -> None:
        if path is not None:
            tracker.record(CheckpointEvent(step, tracker.relative(path)))

    return checkpointed
