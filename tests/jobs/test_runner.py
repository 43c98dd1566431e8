"""The job runner: one failure policy, worker processes under a memory cap, per-tenant caps,
coalescing of waiting work, cancellation, and jobs left behind by a stopped server."""

from __future__ import annotations

import os
import time

import pytest

from ownllm.config import Settings
from ownllm.errors import InvalidInput, RateLimited
from ownllm.jobs.runner import JobRunner, fail_stale_queued, run_inline
from ownllm.jobs.tracker import JobTracker, cancel_job, get_job
from ownllm.store.home import Home, open_home
from ownllm.store.statuses import JobStatus
from ownllm.store.tenants import create_tenant

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
    home = open_home(Settings(home=tmp_path / "home", job_memory_mb=700))
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
    home = open_home(Settings(home=tmp_path / "home", jobs_per_tenant=2, job_workers=1))
    busy, other = create_tenant(home, "busy").id, create_tenant(home, "other").id
    runner = JobRunner(home, "thread")
    try:
        first = runner.submit("eval", busy, f"{W}:sleepy", {"items": ["a"]})
        runner.submit("eval", busy, f"{W}:sleepy", {"items": ["b"]})
        with pytest.raises(RateLimited, match="2 queued or running jobs"):
            runner.submit("eval", busy, f"{W}:sleepy", {"items": ["c"]})
        runner.submit("eval", other, f"{W}:sleepy", {"items": ["d"]})  # another tenant is not affected
        cancel_job(home, first, busy)
        assert _wait(home, first) == "cancelled"
    finally:
        runner.close()
        home.close()


def test_work_submitted_while_a_job_waits_joins_it(tmp_path) -> None:
    home = open_home(Settings(home=tmp_path / "home", job_workers=1))
    tenant = create_tenant(home, "bursty").id
    runner = JobRunner(home, "thread")
    try:
        blocker = runner.submit("eval", tenant, f"{W}:sleepy", {"items": ["first"]})
        ids = {runner.submit("ingest", tenant, f"{W}:sleepy", {"items": [name]}, coalesce="uploads")
               for name in ("a", "b", "c")}
        assert len(ids) == 1  # three submissions, one waiting job
        [joined] = ids
        assert _wait(home, blocker) == "succeeded" and _wait(home, joined) == "succeeded"
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
    assert fail_stale_queued(home) == 1
    assert get_job(home, orphan.job_id).status == "failed"
    assert get_job(home, orphan.job_id).error.startswith("interrupted: the server stopped")
    assert get_job(home, cli_job.job_id).status == "queued"


def test_concurrent_submissions_coalesce_instead_of_racing_past_the_cap(tmp_path) -> None:
    import threading

    home = open_home(Settings(home=tmp_path / "home", job_workers=1, jobs_per_tenant=3))
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
