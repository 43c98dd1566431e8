"""The ingest stage order, and nothing else: admit (store, detect, decide) → parse in sandboxed
workers → record documents → compose the next corpus version.

Ingesting a folder *syncs* it: unchanged files are skipped by content hash, changed files are
parsed again, files gone from the folder are tombstoned (kept in the store, left out of the new
version). Each file's outcome is committed as soon as it is known, so a killed job loses
nothing: running it again skips what was done and composes the same version. A file that fails
is recorded with its reason and the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from ownllm.corpus.compose import compose_version
from ownllm.ingest.admission import admit
from ownllm.ingest.documents import finish_parse
from ownllm.ingest.ray_parse import RayParsePool
from ownllm.ingest.report import IngestReport
from ownllm.ingest.run_state import IngestRun
from ownllm.ingest.sandbox import TaskResult, WorkerPool
from ownllm.ingest.sources import SourceFile, collect_files
from ownllm.ingest.tokens import base_model_token_counter
from ownllm.jobs.ray_cluster import on_ray
from ownllm.jobs.runner import run_inline
from ownllm.jobs.tracker import JobTracker, ProgressCallback, mark_interrupted
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind
from ownllm.store.tenants import tenant_settings


def parse_pool(home: Home, workers: int | None, timeout_s: float, memory_mb: int) -> WorkerPool | RayParsePool:
    """Where parsers run: worker processes here, or Ray Data tasks across a cluster (`OWNLLM_RUNNER=ray`)."""
    if on_ray(home.settings):
        return RayParsePool(home.settings, timeout_s, memory_mb)
    return WorkerPool(workers or home.settings.ingest_workers, timeout_s, memory_mb)


def ingest_files(home: Home, tenant_id: str, files: list[SourceFile], tracker: JobTracker,
                 workers: int | None = None, blobs: dict[str, tuple[str, int]] | None = None,
                 finish: bool = True) -> IngestReport:
    """Run one ingest job over `files`; the caller owns the job record and its failure policy.

    `blobs` gives (sha256, size) for files whose bytes are already stored (uploads), by name. With
    `finish=False` the job stays running: the caller has more to do in it (building the indexes).
    """
    started = time.monotonic()
    for job_id in mark_interrupted(home, tenant_id, JobKind.INGEST):
        if job_id != tracker.job_id:
            JobTracker(home, job_id).event("marked interrupted by a later ingest", level="warning")
    tracker.start(total=len(files))
    run = IngestRun(home, tenant_id, tracker, tenant_settings(home, tenant_id), base_model_token_counter())
    run.total = len(files)
    with parse_pool(home, workers, run.limits.parse_timeout_s, run.limits.parse_memory_mb) as pool:
        if isinstance(pool, RayParsePool):
            tracker.event(f"parsing on Ray Data: {pool.workers} workers")
        for item in files:
            tracker.progress(run.done, run.total, "store", item.name)
            stored = (blobs or {}).get(item.name) if item.path is None else None
            admit(run, item, *(stored or (None, None)))
        # parse in parallel, record in queue order: "which copy is the original" must not depend on timing
        waiting: dict[str, TaskResult] = {}
        for result in pool.run(run.tasks):
            waiting[result.task_id] = result
            while run.recorded < len(run.queue_order) and run.queue_order[run.recorded] in waiting:
                finish_parse(run, waiting.pop(run.queue_order[run.recorded]))
                run.recorded += 1
    tracker.progress(run.total, run.total, "version", None)
    composed = compose_version(home, tenant_id, run.change, tracker.job_id)
    if composed.version is not None:
        run.report.version_id, run.report.version_number = composed.version.id, composed.version.number
    run.report.removed = composed.removed
    run.report.seconds = time.monotonic() - started
    if finish:
        tracker.succeed(run.report.as_dict())
    return run.report


def ingest_paths(home: Home, tenant_id: str, paths: Iterable[Path], on_progress: ProgressCallback | None = None,
                 workers: int | None = None, *, source: str | None = None,
                 tracker: JobTracker | None = None) -> IngestReport:
    """Ingest files and folders in this process as one job; returns what happened to each file."""
    files = collect_files(paths, source)
    return run_inline(home, JobKind.INGEST, tenant_id, lambda t: ingest_files(home, tenant_id, files, t, workers),
                      params={"files": len(files)}, tracker=tracker, on_progress=on_progress)
