"""Kill a real `ownllm ingest` mid-batch (SIGKILL, workers included), run it again: the second run
skips what the first finished and ends with the same corpus as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from ownllm.corpus.versions import summarize_version
from ownllm.ingest.pipeline import ingest_paths
from ownllm.jobs.tracker import get_job
from ownllm.samples.generate import SampleCompany
from ownllm.store.catalog import File, Job
from ownllm.store.tenants import create_tenant, get_tenant
from tests.conftest import make_home


def test_kill_then_rerun_resumes_and_matches_an_uninterrupted_run(tmp_path: Path,
                                                                   sample_company: SampleCompany) -> None:
    home_dir = tmp_path / "home"
    home = make_home(home_dir)
    create_tenant(home, "acme")
    env = {**os.environ, "OWNLLM_HOME": str(home_dir)}
    process = subprocess.Popen([sys.executable, "-m", "ownllm", "ingest", "acme", str(sample_company.dropbox)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    tenant_id = get_tenant(home, "acme").id
    deadline = time.monotonic() + 120
    done = 0
    while done < 3:
        assert process.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
        with home.catalog.session() as session:
            done = session.scalar(select(func.count(File.id)).where(File.tenant_id == tenant_id,
                                                                     File.status == "parsed")) or 0
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and its parser workers, mid-batch
    process.wait(timeout=10)
    with home.catalog.session() as session:
        killed_job = session.scalar(select(Job).where(Job.tenant_id == tenant_id, Job.status == "running"))
        assert killed_job is not None

    report = ingest_paths(home, tenant_id, [sample_company.dropbox])
    statuses = [o.status for o in report.outcomes]
    assert statuses.count("unchanged") >= 3  # finished work is not redone
    assert statuses.count("unchanged") + statuses.count("parsed") == len(statuses)
    assert get_job(home, killed_job.id).status == "failed"
    resumed = {d.file_name for d in summarize_version(home, tenant_id).documents}

    fresh = make_home(tmp_path / "fresh")
    other = create_tenant(fresh, "acme")
    ingest_paths(fresh, other.id, [sample_company.dropbox])
    assert resumed == {d.file_name for d in summarize_version(fresh, other.id).documents}
    assert len(resumed) == len(sample_company.manifest())
