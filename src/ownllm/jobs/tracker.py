"""Record a job's life in the catalog so the CLI, the API and the console all see the same progress.

A `JobTracker` is what a long-running stage receives: it writes status changes and typed
events as they happen and forwards progress to an optional callback (the CLI's progress bar).
Progress rows are throttled so a fast loop does not spend its time writing to SQLite. Paths in
events and results are stored relative to the home, so nothing a tenant reads names the
server's disk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, update

from ownllm.errors import Cancelled, NotFound
from ownllm.store.catalog import Job, JobEvent, utcnow
from ownllm.store.home import Home
from ownllm.store.statuses import ACTIVE_JOB_STATUSES, TERMINAL_JOB_STATUSES, EventType, JobStatus

ProgressCallback = Callable[[int, int, str | None, str | None], None]
INTERRUPTED = "interrupted"  # the prefix of the error a job gets when its process ended before it did


@dataclass(frozen=True)
class StepEvent:
    """One optimizer step of a tuning run."""

    step: int
    loss: float
    lr: float
    tokens_per_s: float

    type = EventType.STEP
    message = "step"


@dataclass(frozen=True)
class CheckpointEvent:
    step: int
    path: str  # relative to the home

    type = EventType.CHECKPOINT
    message = "checkpoint saved"


@dataclass(frozen=True)
class FileEvent:
    """One file of an ingest job that needs a human look (failed, unsupported, refused member)."""

    file: str
    status: str
    reason: str

    type = EventType.FILE

    @property
    def message(self) -> str:
        return f"{self.file}: {self.reason}"


TypedEvent = StepEvent | CheckpointEvent | FileEvent


class JobTracker:
    def __init__(self, home: Home, job_id: str, on_progress: ProgressCallback | None = None) -> None:
        self.home = home
        self.job_id = job_id
        self.on_progress = on_progress
        self._last_write = 0.0

    @classmethod
    def create(cls, home: Home, kind: str, tenant_id: str | None, params: dict[str, Any] | None = None,
               on_progress: ProgressCallback | None = None) -> JobTracker:
        with home.catalog.session() as session:
            job = Job(kind=kind, tenant_id=tenant_id, params=params or {})
            session.add(job)
            session.flush()
            job_id = job.id
        return cls(home, job_id, on_progress)

    def _update(self, change: Callable[[Job], bool | None]) -> bool:
        """Apply `change` to the job row unless it was cancelled; returns whether it applied.

        The write is one conditional UPDATE (`status != cancelled`), not read-then-write: a cancel that
        lands between the read and the write must win, or a job marked running after its cancel runs on
        and keeps its tenant's place in the job cap."""
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            if job is None:
                raise NotFound(f"job {self.job_id!r} does not exist")
            if job.status == JobStatus.CANCELLED:
                return False
            change(job)
            job.heartbeat_at = utcnow()
            state = inspect(job)
            values = {attr.key: attr.value for attr in state.attrs if attr.history.has_changes()}
            session.expunge(job)  # the ORM must not write it unconditionally on commit
            written = session.execute(
                update(Job).where(Job.id == self.job_id, Job.status != JobStatus.CANCELLED).values(**values),
                execution_options={"synchronize_session": False})
            return written.rowcount == 1  # type: ignore[attr-defined]

    def start(self, total: int = 0) -> None:
        def running(job: Job) -> None:
            job.status = JobStatus.RUNNING
            job.started_at = job.started_at or utcnow()
            job.pid = os.getpid()
            job.progress_total = total

        if self._update(running):
            self.event("job started", type=EventType.STATUS)

    def reopen(self, why: str) -> None:
        """Take an interrupted job up again (a re-run that resumes it): its old error and end time are cleared,
        so while it runs it reads as running, not as failed; the interruption stays in its events."""
        def resumed(job: Job) -> None:
            job.error, job.finished_at = None, None

        if self._update(resumed):
            self.event(why, type=EventType.STATUS)

    def set_status(self, status: JobStatus) -> None:
        """Intermediate states some job kinds report (a tuning run: validating_files, queued)."""
        def apply(job: Job) -> None:
            job.status = status

        if self._update(apply):
            self.event(f"status: {status}", type=EventType.STATUS)

    def update_params(self, **params: Any) -> None:
        """Add what became known after the job was created (the API creates it before validation)."""
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            job.params = {**(job.params or {}), **params}

    def cancelled(self) -> bool:
        """True once someone cancelled the job; long loops check it between steps."""
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            return job is not None and job.status == JobStatus.CANCELLED

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled(f"job {self.job_id} was cancelled")

    def progress(self, done: int, total: int, stage: str | None = None, item: str | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, stage, item)
        now = time.monotonic()
        if now - self._last_write < 0.25 and done < total:
            return
        self._last_write = now

        def apply(job: Job) -> None:
            job.progress_done, job.progress_total = done, total
            job.stage, job.current_item = stage, item

        self._update(apply)

    def event(self, message: str, level: str = "info", *, type: EventType = EventType.MESSAGE,
              **data: Any) -> None:
        with self.home.catalog.session() as session:
            session.add(JobEvent(job_id=self.job_id, message=self.home.scrub(message), level=level, type=type,
                                 data=data))

    def record(self, event: TypedEvent, level: str = "info") -> None:
        self.event(event.message, level, type=event.type, **asdict(event))

    def relative(self, path: Path | str) -> str:
        return self.home.relative(path)

    def succeed(self, result: dict[str, Any]) -> None:
        self._finish(JobStatus.SUCCEEDED, result=result)

    def fail(self, error: str) -> None:
        self._finish(JobStatus.FAILED, error=self.home.scrub(error))

    @property
    def finished(self) -> bool:
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            return job is not None and job.status in TERMINAL_JOB_STATUSES

    def _finish(self, status: JobStatus, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        def apply(job: Job) -> None:
            job.status = status
            job.finished_at = utcnow()
            job.result = result or {}
            job.error = error
            job.stage = None
            job.current_item = None
            if status == JobStatus.SUCCEEDED:
                job.progress_done = job.progress_total

        if self._update(apply):
            self.event(f"job {status}", level="error" if status == JobStatus.FAILED else "info",
                       type=EventType.STATUS, error=error)


def claim_job(home: Home, job_id: str) -> bool:
    """Take a waiting job for this process: one conditional UPDATE (compare-and-set on `pid IS NULL`), so of
    any number of workers or servers that try to run the same job, exactly one gets True. The job's visible
    status is left to its own lifecycle (a tuning run still goes validating_files → queued → running)."""
    with home.catalog.session() as session:
        claimed = session.execute(
            update(Job).where(Job.id == job_id, Job.pid.is_(None), Job.status.in_(list(ACTIVE_JOB_STATUSES)))
            .values(pid=os.getpid(), heartbeat_at=utcnow()))
        return claimed.rowcount == 1  # type: ignore[attr-defined]


def get_job(home: Home, job_id: str, tenant_id: str | None = None, kind: str | None = None) -> Job:
    """A job by id; with `tenant_id` (and `kind`), anything else is reported as not found."""
    with home.catalog.session() as session:
        job = session.get(Job, job_id)
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id) or \
                (kind is not None and job.kind != kind):
            raise NotFound(f"job {job_id!r} does not exist", param="job_id")
        return job


def list_jobs(home: Home, tenant_id: str, kind: str | None = None) -> list[Job]:
    with home.catalog.session() as session:
        query = select(Job).where(Job.tenant_id == tenant_id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(session.scalars(query.order_by(Job.created_at.desc())))


def active_jobs(home: Home, tenant_id: str) -> int:
    with home.catalog.session() as session:
        return session.scalar(select(func.count(Job.id)).where(
            Job.tenant_id == tenant_id, Job.status.in_(list(ACTIVE_JOB_STATUSES)))) or 0


def cancel_job(home: Home, job_id: str, tenant_id: str | None = None, kind: str | None = None) -> Job:
    """Mark a job cancelled; its worker notices between steps and stops. Finished jobs are left as they are."""
    get_job(home, job_id, tenant_id, kind)
    with home.catalog.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        if job.status not in TERMINAL_JOB_STATUSES:
            job.status, job.finished_at = JobStatus.CANCELLED, utcnow()
            session.add(JobEvent(job_id=job_id, message="job cancelled", level="warning", type=EventType.STATUS,
                                 data={}))
        return job


def job_events(home: Home, job_id: str, type: EventType | None = None) -> list[JobEvent]:
    with home.catalog.session() as session:
        query = select(JobEvent).where(JobEvent.job_id == job_id)
        if type is not None:
            query = query.where(JobEvent.type == type)
        return list(session.scalars(query.order_by(JobEvent.id)))


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(home: Home, tenant_id: str | None = None, kind: str | None = None) -> list[str]:
    """Close out jobs left running by a process that no longer exists (killed, crashed)."""
    closed = []
    with home.catalog.session() as session:
        query = select(Job).where(Job.status == JobStatus.RUNNING)
        if tenant_id is not None:
            query = query.where(Job.tenant_id == tenant_id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        for job in session.scalars(query):
            if job.pid is not None and job.pid != os.getpid() and not process_alive(job.pid):
                job.status, job.finished_at = JobStatus.FAILED, utcnow()
                job.error = f"{INTERRUPTED}: its process ended before it finished; the next run resumes"
                closed.append(job.id)
    return closed
