"""The job runner: one failure policy, worker processes under a memory cap, per-tenant caps,
coalescing of waiting work, cancellation, and jobs left behind by a stopped server."""

from __future__ import annotations

import os
import socket
import time

import pytest

from ownllm.errors import InvalidInput, RateLimited
from ownllm.jobs.runner import JobRunner, fail_stale_queued, run_inline
from ownllm.jobs.tracker import INTERRUPTED, JobTracker, active_jobs, cancel_job, get_job, job_events
from ownllm.store.home import Home
from ownllm.store.statuses import JobStatus
from ownllm.store.tenants import create_tenant
from tests.conftest import make_home

W = "tests.jobs.workloads"


def _wait(home: Home, job_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (status := get_job(home, job_id).status) not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.1)
    return status


@pytest.fixture
def tenant(home: Home) -> str:
    return create_tenant(home, "jobs").id


def test_inline_failure_policy_records_one_message_and_reraises(home: Home, tenant: str) -> None:
    with pytest.raises(InvalidInput):
        run_inline(home, "eval", tenant, lambda t: (_ for _ in ()).throw(InvalidInput("no questions")))
    tracker = JobTracker.create(home, "eval", tenant)
    with pytest.raises(ValueError):
        run_inline(home, "eval", tenant, lambda t: (_ for _ in ()).throw(ValueError(f"bad {home.root}/x")),
                   tracker=tracker)
    job = get_job(home, tracker.job_id)
    assert job.status == "failed" and job.error == "ValueError: bad $OWNLLM_HOME/x"  # no server path leaks


def test_process_jobs_run_elsewhere_and_fail_with_their_reason(tmp_path, tenant: str, home: Home) -> None:
    runner = JobRunner(home, "process")
    try:
        ok = runner.submit("eval", tenant, f"{W}:succeed", {"value": 21})
        refused = runner.submit("eval", tenant, f"{W}:refuse", {})
        crashed = runner.submit("eval", tenant, f"{W}:crash", {})
        assert _wait(home, ok) == "succeeded"
        result = get_job(home, ok).result
        assert result["value"] == 42 and result["pid"] != os.getpid()
        assert _wait(home, refused) == "failed"
        assert get_job(home, refused).error == "the input names a missing thing"
        assert _wait(home, crashed) == "failed"
        error = get_job(home, crashed).error
        assert error.startswith("ValueError: broken while reading $OWNLLM_HOME/runs") and str(home.root) not in error
    finally:
        runner.close()


def test_a_job_over_the_memory_cap_fails_and_the_server_does_not_grow(tmp_path) -> None:
    home = make_home(tmp_path / "home", job_memory_mb=700)
    tenant = create_tenant(home, "hungry").id
    runner = JobRunner(home, "process")
    try:
        job_id = runner.submit("eval", tenant, f"{W}:hog", {"megabytes": 2000})
        assert _wait(home, job_id) == "failed"
        assert "MemoryError" in get_job(home, job_id).error or "memory cap" in get_job(home, job_id).error
    finally:
        runner.close()
        home.close()


def test_each_tenant_has_a_job_cap(tmp_path) -> None:
    home = make_home(tmp_path / "home", jobs_per_tenant=2, job_workers=1)
    busy, other = create_tenant(home, "busy").id, create_tenant(home, "other").id
    runner = JobRunner(home, "thread")
    try:
        # both of busy's jobs hold until cancelled: the cap is checked while they are certainly queued or running
        first = runner.submit("eval", busy, f"{W}:until_cancelled", {})
        second = runner.submit("eval", busy, f"{W}:until_cancelled", {})
        with pytest.raises(RateLimited, match="2 queued or running jobs"):
            runner.submit("eval", busy, f"{W}:sleepy", {"items": ["c"]})
        runner.submit("eval", other, f"{W}:sleepy", {"items": ["d"]})  # another tenant is not affected
        cancel_job(home, first, busy)
        assert _wait(home, first) == "cancelled"
        runner.submit("eval", busy, f"{W}:sleepy", {"items": ["e"]})  # a cancelled job frees its place
        cancel_job(home, second, busy)
        assert _wait(home, second) == "cancelled"
    finally:
        runner.close()
        home.close()


def test_work_submitted_while_a_job_waits_joins_it(tmp_path) -> None:
    home = make_home(tmp_path / "home", job_workers=1)
    tenant = create_tenant(home, "bursty").id
    runner = JobRunner(home, "thread")
    try:
        # the blocker holds the only worker until cancelled, so the uploads certainly find a waiting job to join
        blocker = runner.submit("eval", tenant, f"{W}:until_cancelled", {})
        ids = {runner.submit("ingest", tenant, f"{W}:sleepy", {"items": [name]}, coalesce="uploads")
               for name in ("a", "b", "c")}
        assert len(ids) == 1  # three submissions, one waiting job
        [joined] = ids
        cancel_job(home, blocker, tenant)
        assert _wait(home, blocker) == "cancelled" and _wait(home, joined) == "succeeded"
        assert get_job(home, joined).result["items"] == ["a", "b", "c"]
    finally:
        runner.close()
        home.close()


def test_a_cancelled_job_is_never_set_running_and_stale_queued_jobs_are_closed(home: Home, tenant: str) -> None:
    tracker = JobTracker.create(home, "eval", tenant)
    cancel_job(home, tracker.job_id, tenant)
    tracker.start()
    assert get_job(home, tracker.job_id).status == JobStatus.CANCELLED
    orphan = JobTracker.create(home, "ingest", tenant)
    orphan.update_params(_runner=True)
    cli_job = JobTracker.create(home, "ingest", tenant)  # queued by a CLI process, not a server: left alone
    dead = JobTracker.create(home, "ingest", tenant)
    dead.update_params(_runner=f"{socket.gethostname()}:{_dead_pid()}")  # a server on this host that stopped
    replica = JobTracker.create(home, "ingest", tenant)
    replica.update_params(_runner=f"{socket.gethostname()}:{os.getpid()}")  # a live server (another replica)
    elsewhere = JobTracker.create(home, "ingest", tenant)
    elsewhere.update_params(_runner=f"other-host-{os.getpid()}:{_dead_pid()}")  # not provable from here
    assert fail_stale_queued(home) == 2
    assert get_job(home, orphan.job_id).status == "failed"
    assert get_job(home, orphan.job_id).error.startswith("interrupted: the server stopped")
    assert get_job(home, dead.job_id).status == "failed"
    for kept in (cli_job, replica, elsewhere):
        assert get_job(home, kept.job_id).status == "queued"


def test_a_cancel_landing_while_the_job_is_marked_running_wins(home: Home, tenant: str, monkeypatch) -> None:
    """The worker reads 'queued', the user cancels, the worker writes: the cancel must survive (a job set
    running after its cancel would run on and hold its tenant's place in the job cap)."""
    from ownllm.jobs import tracker as tracker_module

    tracker = JobTracker.create(home, "eval", tenant)
    real_now = tracker_module.utcnow
    cancelled_midway: list[str] = []

    def now_with_a_cancel_between_read_and_write():
        if not cancelled_midway:  # the first call is inside start()'s update, after it read the row
            cancelled_midway.append("cancelling")  # cancel_job asks the time too: cancel once
            cancelled_midway[0] = cancel_job(home, tracker.job_id, tenant).status
        return real_now()

    monkeypatch.setattr(tracker_module, "utcnow", now_with_a_cancel_between_read_and_write)
    tracker.start()
    assert cancelled_midway == ["cancelled"]
    assert get_job(home, tracker.job_id).status == JobStatus.CANCELLED
    assert tracker.cancelled() and active_jobs(home, tenant) == 0
    tracker.fail("too late")  # nor does a later failure or result overwrite the cancel
    assert get_job(home, tracker.job_id).status == JobStatus.CANCELLED and get_job(home, tracker.job_id).error is None


def _dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_job_is_claimed_by_exactly_one_of_many_workers(home: Home, tenant: str) -> None:
    """Eight threads race to claim each of five waiting jobs (one UPDATE … WHERE pid IS NULL each): one wins."""
    import threading

    from ownllm.jobs.tracker import claim_job

    jobs = [JobTracker.create(home, "ingest", tenant).job_id for _ in range(5)]
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        for job_id in jobs:
            if claim_job(home, job_id):
                wins.append(job_id)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == sorted(jobs)  # each job exactly once
    cancelled = JobTracker.create(home, "ingest", tenant).job_id
    cancel_job(home, cancelled)
    assert not claim_job(home, cancelled)  # a job cancelled while it waited is never started


def test_two_ingests_at_once_lose_and_duplicate_nothing(home: Home, tenant: str, tmp_path) -> None:
    """Two ingest jobs of one tenant write at the same time (one file in both folders): every file is stored
    once per path, the versions are numbered without gaps or repeats, the latest holds every document."""
    import threading

    from sqlalchemy import func, select

    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.store.catalog import CorpusVersion, File

    folders = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        for index in range(6):
            (folder / f"{side}_{index}.md").write_text(f"# {side} {index}\n\nFact {side}{index}: {index * 7} units.\n")
        (folder / "shared.md").write_text("# Shared\n\nThe shared fact is 42.\n")
        folders.append(folder)
    errors: list[BaseException] = []

    def ingest(folder) -> None:
        try:
            ingest_paths(home, tenant, [folder])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(f,)) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with home.catalog.session() as session:
        rows = session.execute(select(File.source, File.original_name, func.count())
                               .where(File.tenant_id == tenant).group_by(File.source, File.original_name)).all()
        numbers = sorted(session.scalars(select(CorpusVersion.number).where(CorpusVersion.tenant_id == tenant)))
    assert len(rows) == 14 and all(count == 1 for *_, count in rows)  # 7 paths per folder, each stored once
    assert numbers == list(range(1, len(numbers) + 1))
    from ownllm.corpus.versions import summarize_version

    assert len(summarize_version(home, tenant).documents) == 14


def test_concurrent_submissions_coalesce_instead_of_racing_past_the_cap(tmp_path) -> None:
    import threading

    home = make_home(tmp_path / "home", job_workers=1, jobs_per_tenant=3)
    tenant = create_tenant(home, "burst").id
    runner = JobRunner(home, "thread")
    try:
        runner.submit("eval", tenant, f"{W}:sleepy", {"items": ["blocker"]})
        barrier, ids, errors = threading.Barrier(16), [], []

        def submit(index: int) -> None:
            barrier.wait()
            try:
                ids.append(runner.submit("ingest", tenant, f"{W}:sleepy", {"items": [str(index)]}, coalesce="up"))
            except RateLimited as exc:  # pragma: no cover - the failure this test guards against
                errors.append(exc)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors and len(set(ids)) <= 2
        for job_id in set(ids):
            assert _wait(home, job_id) == "succeeded"
        assert sorted(i for job_id in set(ids) for i in get_job(home, job_id).result["items"]) == \
            sorted(str(i) for i in range(16))
    finally:
        runner.close()
        home.close()


def test_a_resumed_job_reads_as_running_not_as_its_old_failure(home: Home, tenant: str) -> None:
    tracker = JobTracker.create(home, "fine_tune", tenant)
    tracker.start(10)
    tracker.fail(f"{INTERRUPTED}: its process ended before it finished; the next run resumes")
    assert get_job(home, tracker.job_id).error.startswith(INTERRUPTED)
    tracker.reopen("resuming an interrupted run from its last checkpoint")
    tracker.start(10)
    job = get_job(home, tracker.job_id)
    assert (job.status, job.error, job.finished_at) == ("running", None, None)
    messages = [event.message for event in job_events(home, tracker.job_id)]
    assert messages.index("job failed") < messages.index("resuming an interrupted run from its last checkpoint")
