"""One way to run long work: `run_inline` in the caller's process (the CLI, with a progress bar) and
`JobRunner.submit` in a worker process (the API server), both with one failure policy.

The failure policy: a cancelled job stays cancelled; an `OwnLLMError` fails the job with its
message; anything else fails it with the exception's type and message; a Ctrl-C marks it
interrupted (a re-run resumes where a stage supports it). Messages never carry the home's
absolute path. A job process is started fresh (`spawn`), runs under an address-space cap and
at a lower CPU priority than the API, and a process that dies without finishing its job (out
of memory, killed) fails that job with the reason. Each tenant may have only so many queued
and running jobs; the next is a 429.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing as mp
import os
import resource
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ownllm.config import Settings
from ownllm.errors import Cancelled, OwnLLMError, RateLimited
from ownllm.jobs.tracker import (
    INTERRUPTED,
    JobTracker,
    ProgressCallback,
    active_jobs,
    claim_job,
    get_job,
    process_alive,
)
from ownllm.store.catalog import Job, utcnow
from ownllm.store.home import Home, open_home
from ownllm.store.statuses import TERMINAL_JOB_STATUSES, JobStatus

log = logging.getLogger("ownllm.jobs")
T = TypeVar("T")
# a job function: fn(home, tenant_id, tracker, **params); named as "package.module:function"
JobTarget = str
SUBMITTED = "_runner"  # a job parameter marking jobs a server's runner owns


def apply_failure_policy(tracker: JobTracker, work: Callable[[], T]) -> T:
    """Run `work`; on failure record why on the job (once, in one format) and re-raise."""
    try:
        return work()
    except Cancelled:
        tracker.event("stopped between steps: the job was cancelled", level="warning")
        raise
    except OwnLLMError as exc:
        tracker.fail(exc.message)
        raise
    except KeyboardInterrupt:
        tracker.fail(f"{INTERRUPTED}: stopped by the user; run the same command again to resume")
        raise
    except BaseException as exc:
        tracker.fail(f"{type(exc).__name__}: {exc}")
        raise


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (parser workers) so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def record_cpu(home: Home, job_id: str, seconds: float) -> None:
    """What the job cost in CPU time, for `ownllm usage --cost` (added to, for a resumed job)."""
    with contextlib.suppress(Exception), home.catalog.session() as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.cpu_seconds = round((job.cpu_seconds or 0.0) + max(0.0, seconds), 3)


def run_inline(home: Home, kind: str, tenant_id: str | None, work: Callable[[JobTracker], T], *,
               params: dict[str, Any] | None = None, tracker: JobTracker | None = None,
               on_progress: ProgressCallback | None = None) -> T:
    """Run a job in this process (the CLI's foreground work): create its record, apply the policy."""
    tracker = tracker or JobTracker.create(home, kind, tenant_id, params, on_progress)
    if on_progress is not None:
        tracker.on_progress = on_progress
    started = cpu_seconds()
    try:
        return apply_failure_policy(tracker, lambda: work(tracker))
    finally:
        record_cpu(home, tracker.job_id, cpu_seconds() - started)


def resolve_target(target: JobTarget) -> Callable[..., Any]:
    """A job function by name; names come from code (services), never from a request."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"job target {target!r} must be '<package.module>:<function>'")
    return getattr(importlib.import_module(module), name)


def execute(home: Home, job_id: str, tenant_id: str | None, target: JobTarget, params: dict[str, Any]) -> None:
    """Run a submitted job to its end in this process; a success without a result records {}. A job another
    process already claimed (or that was cancelled while it waited) is left alone."""
    tracker = JobTracker(home, job_id)
    fn = resolve_target(target)
    if not claim_job(home, job_id):
        log.warning("job %s was already claimed or is no longer waiting; not running it again", job_id)
        return
    started = cpu_seconds()
    with contextlib.suppress(Exception):
        apply_failure_policy(tracker, lambda: fn(home, tenant_id, tracker, **params))
    if not tracker.finished:
        tracker.succeed({})
    record_cpu(home, job_id, cpu_seconds() - started)


def _limit_process(memory_mb: int, ray_driver: bool = False) -> None:
    """Cap the job's address space and lower its priority. A job that drives Ray work gets no address-space
    cap: Ray's client maps gigabytes of virtual memory it never touches (object store, gRPC threads), and its
    heavy work runs in Ray's workers, whose memory Ray's own monitor bounds."""
    with contextlib.suppress(OSError):
        os.nice(5)  # the API answers first; background work takes what is left
    if ray_driver:
        return
    limit = memory_mb << 20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child_main(settings_json: str, job_id: str, tenant_id: str | None, target: JobTarget,
                params: dict[str, Any]) -> None:
    settings = Settings.model_validate_json(settings_json)
    _limit_process(settings.job_memory_mb, ray_driver=settings.runner == "ray")
    home = open_home(settings, migrate=False)
    try:
        execute(home, job_id, tenant_id, target, params)
    finally:
        home.close()


@dataclass
class _Pending:
    job_id: str
    tenant_id: str | None
    target: JobTarget
    params: dict[str, Any]
    coalesce: str | None = None


@dataclass
class _Running:
    pending: _Pending
    process: mp.process.BaseProcess | threading.Thread
    cancelled_at: float | None = None


class JobRunner:
    """The server's background jobs: a queue, at most `job_workers` running, each in its own process."""

    CANCEL_GRACE_S = 20.0

    def __init__(self, home: Home, mode: str | None = None) -> None:
        self.home = home
        self.settings = home.settings
        self.mode = mode or self.settings.job_runner
        self._queue: deque[_Pending] = deque()
        self._running: list[_Running] = []
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._context = mp.get_context("spawn")
        self._thread = threading.Thread(target=self._loop, name="job runner", daemon=True)
        self._thread.start()

    def submit(self, kind: str, tenant_id: str | None, target: JobTarget, params: dict[str, Any], *,
               job_params: dict[str, Any] | None = None, tracker: JobTracker | None = None,
               coalesce: str | None = None) -> str:
        """Queue a job and return its id at once; `job_params` is what the job record shows.

        With `coalesce`, work submitted while a job with the same key is still waiting joins that
        job (its list parameters are extended): a burst of uploads becomes one ingest, one corpus
        version and one index build, and does not count against the tenant's job cap.
        """
        resolve_target(target)  # a wrong target is a bug to see now, not in a worker later
        with self._submit_lock:  # join-or-create is one step: concurrent submissions must not both create
            if coalesce is not None:
                joined = self._join_waiting(coalesce, params)
                if joined is not None:
                    return joined
            if tenant_id is not None:
                active = active_jobs(self.home, tenant_id) - (1 if tracker is not None else 0)
                if active >= self.settings.jobs_per_tenant:
                    if tracker is not None:
                        tracker.fail("refused: too many queued or running jobs for this tenant")
                    raise RateLimited(f"this tenant already has {active} queued or running jobs (limit "
                                      f"{self.settings.jobs_per_tenant}); wait for one to finish", retry_after=30.0,
                                      code="too_many_jobs")
            tracker = tracker or JobTracker.create(self.home, kind, tenant_id, job_params or {})
            tracker.update_params(**{SUBMITTED: submitter()})
            with self._lock:
                self._queue.append(_Pending(tracker.job_id, tenant_id, target, params, coalesce))
        self._wake.set()
        return tracker.job_id

    def _join_waiting(self, key: str, params: dict[str, Any]) -> str | None:
        with self._lock:
            waiting = next((p for p in self._queue if p.coalesce == key), None)
            if waiting is None:
                return None
            for name, value in params.items():
                if isinstance(value, list) and isinstance(waiting.params.get(name), list):
                    waiting.params[name] = waiting.params[name] + value
            job_id = waiting.job_id
            count = sum(len(v) for v in waiting.params.values() if isinstance(v, list))
        JobTracker(self.home, job_id).update_params(files=count)
        return job_id

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            with contextlib.suppress(Exception):  # the runner must outlive any one bad job
                self._reap()
                self._start_waiting()

    def _start_waiting(self) -> None:
        while True:
            with self._lock:
                if not self._queue or len(self._running) >= self.settings.job_workers:
                    return
                pending = self._queue.popleft()  # from here on, nothing joins it
            if get_job(self.home, pending.job_id).status in TERMINAL_JOB_STATUSES:
                continue  # cancelled while it waited
            self._running.append(_Running(pending, self._start(pending)))

    def _start(self, pending: _Pending) -> mp.process.BaseProcess | threading.Thread:
        if self.mode == "thread":
            worker: mp.process.BaseProcess | threading.Thread = threading.Thread(
                target=execute, args=(self.home, pending.job_id, pending.tenant_id, pending.target, pending.params),
                name=f"job {pending.job_id}", daemon=True)
        else:
            worker = self._context.Process(
                target=_child_main, name=f"ownllm job {pending.job_id}", daemon=False,
                args=(self.settings.model_dump_json(), pending.job_id, pending.tenant_id, pending.target,
                      pending.params))
        worker.start()
        return worker

    def _reap(self) -> None:
        still = []
        for running in self._running:
            if running.process.is_alive():
                self._enforce_cancel(running)
                still.append(running)
                continue
            code = getattr(running.process, "exitcode", 0)
            with contextlib.suppress(Exception):
                self._close_unfinished(running.pending.job_id, code)
        self._running = still

    def _enforce_cancel(self, running: _Running) -> None:
        """A cancelled job gets a grace period to stop between steps, then its process is ended."""
        if not isinstance(running.process, mp.process.BaseProcess):
            return
        if get_job(self.home, running.pending.job_id).status != JobStatus.CANCELLED:
            return
        running.cancelled_at = running.cancelled_at or time.monotonic()
        if time.monotonic() - running.cancelled_at > self.CANCEL_GRACE_S:
            running.process.terminate()

    def _close_unfinished(self, job_id: str, exit_code: int | None) -> None:
        with self.home.catalog.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.status in TERMINAL_JOB_STATUSES:
                return
            if exit_code is not None and exit_code < 0:
                why = f"its worker process was killed (signal {-exit_code})"
            else:
                why = f"its worker process exited with code {exit_code}"
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
            job.error = (f"{INTERRUPTED}: {why} before the job finished; the job memory cap is "
                         f"{self.settings.job_memory_mb} MB (OWNLLM_JOB_MEMORY_MB)")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def running_jobs(self) -> list[str]:
        return [r.pending.job_id for r in self._running]

    def close(self, wait_s: float = 5.0) -> None:
        self._stopped = True
        self._wake.set()
        deadline = time.monotonic() + wait_s
        for running in list(self._running):
            running.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(running.process, mp.process.BaseProcess) and running.process.is_alive():
                running.process.terminate()
        self._thread.join(timeout=2)


def submitter() -> str:
    """Which server process queued a job: `host:pid` (another replica's jobs are not this server's to judge)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(owner: object, claimed_pid: int | None) -> bool:
    """Whether the process that queued (or claimed) a waiting job has stopped; only provable on this host."""
    host, _, pid = str(owner).rpartition(":")
    if owner is True or not pid.isdigit():  # homes from before submitters were recorded
        return claimed_pid is None
    if host != socket.gethostname():
        return False
    alive = [p for p in (int(pid), claimed_pid) if p]
    return not any(process_alive(p) for p in alive)


def fail_stale_queued(home: Home) -> int:
    """Jobs queued by a server on this host that has since stopped will never start: say so on each."""
    from sqlalchemy import select

    count = 0
    with home.catalog.session() as session:
        for job in session.scalars(select(Job).where(Job.status.in_([JobStatus.QUEUED,
                                                                     JobStatus.VALIDATING_FILES]))):
            owner = (job.params or {}).get(SUBMITTED)
            if owner and _gone(owner, job.pid):
                job.status, job.finished_at = JobStatus.FAILED, utcnow()
                job.error = f"{INTERRUPTED}: the server stopped before this job started; submit it again"
                count += 1
    return count
