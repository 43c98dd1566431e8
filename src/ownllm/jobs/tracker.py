"""Record a job's life in the catalog so the CLI, the API and the console all see the same progress.

A `JobTracker` is what a long-running service function receives: it writes status
changes and events as they happen and forwards progress to an optional callback
(the CLI's progress bar). Progress rows are throttled so a fast loop does not
spend its time writing to SQLite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ownllm.errors import NotFound
from ownllm.store.catalog import Job, JobEvent, utcnow
from ownllm.store.home import Home

ProgressCallback = Callable[[int, int, str | None, str | None], None]
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


class JobTracker:
    def __init__(self, home: Home, job_id: str, on_progress: ProgressCallback | None = None) -> None:
        self.home = home
        self.job_id = job_id
        self.on_progress = on_progress
        self._last_write = 0.0

    @classmethod
    def create(
        cls,
        home: Home,
        kind: str,
        tenant_id: str | None,
        params: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> JobTracker:
        with home.catalog.session() as session:
            job = Job(kind=kind, tenant_id=tenant_id, params=params or {})
            session.add(job)
            session.flush()
            job_id = job.id
        return cls(home, job_id, on_progress)

    def start(self, total: int = 0) -> None:
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            if job.status == "cancelled":
                return  # cancelled while queued: the worker notices at its first cancellation check
            job.status = "running"
            job.started_at = job.heartbeat_at = utcnow()
            job.pid = os.getpid()
            job.progress_total = total
        self.event("job started")

    def set_status(self, status: str) -> None:
        """Intermediate states some job kinds report (a tuning run: validating_files, queued)."""
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            if job.status == "cancelled":
                return
            job.status = status
            job.heartbeat_at = utcnow()
        self.event(f"status: {status}")

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
            return job is not None and job.status == "cancelled"

    def progress(self, done: int, total: int, stage: str | None = None, item: str | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, stage, item)
        now = time.monotonic()
        if now - self._last_write < 0.25 and done < total:
            return
        self._last_write = now
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            job.progress_done, job.progress_total = done, total
            job.stage, job.current_item = stage, item
            job.heartbeat_at = utcnow()

    def event(self, message: str, level: str = "info", **data: Any) -> None:
        with self.home.catalog.session() as session:
            session.add(JobEvent(job_id=self.job_id, message=message, level=level, data=data))

    def succeed(self, result: dict[str, Any]) -> None:
        self._finish("succeeded", result=result)

    def fail(self, error: str) -> None:
        self._finish("failed", error=error)

    def _finish(self, status: str, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        with self.home.catalog.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            job.status = status
            job.finished_at = utcnow()
            job.result = result or {}
            job.error = error
            job.stage = None
            job.current_item = None
            if status == "succeeded":
                job.progress_done = job.progress_total
        self.event(f"job {status}", level="error" if status == "failed" else "info", error=error)


def get_job(home: Home, job_id: str, tenant_id: str | None = None) -> Job:
    """A job by id; with `tenant_id`, another tenant's job is reported as not found."""
    with home.catalog.session() as session:
        job = session.get(Job, job_id)
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
            raise NotFound(f"job {job_id!r} does not exist")
        return job


def cancel_job(home: Home, job_id: str, tenant_id: str | None = None) -> Job:
    """Mark a job cancelled; its worker notices between steps and stops. Finished jobs are left as they are."""
    with home.catalog.session() as session:
        job = session.get(Job, job_id)
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
            raise NotFound(f"job {job_id!r} does not exist")
        if job.status not in TERMINAL_STATUSES:
            job.status, job.finished_at = "cancelled", utcnow()
            session.add(JobEvent(job_id=job_id, message="job cancelled", level="warning", data={}))
        return job


def job_events(home: Home, job_id: str) -> list[JobEvent]:
    with home.catalog.session() as session:
        return list(session.scalars(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)))


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(home: Home, tenant_id: str | None, kind: str) -> list[str]:
    """Close out jobs left `running` by a process that no longer exists (killed, crashed)."""
    closed = []
    with home.catalog.session() as session:
        running = session.scalars(select(Job).where(Job.tenant_id == tenant_id, Job.kind == kind,
                                                    Job.status == "running"))
        for job in running:
            if job.pid is not None and job.pid != os.getpid() and not _process_alive(job.pid):
                job.status, job.finished_at = "failed", utcnow()
                job.error = "interrupted: its process ended before it finished; the next run resumes"
                closed.append(job.id)
    return closed
