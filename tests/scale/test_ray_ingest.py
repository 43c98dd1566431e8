"""Ingest on Ray Data gives the corpus a local ingest gives, and a killed Ray worker's files are parsed anyway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from ownllm.config import Settings
from ownllm.corpus.versions import get_version, latest_document_ids, latest_version, version_document_ids
from ownllm.ingest.pipeline import ingest_paths
from ownllm.ingest.ray_parse import RayParsePool
from ownllm.retrieval.dense import build_dense
from ownllm.store.catalog import Chunk, Document, File, Job
from ownllm.store.home import Home
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant
from tests.conftest import make_home, server_env
from tests.e2e.conftest import _free_port, wait_until_up

REAL = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "real-docs"
# a spread of formats, one refusal (a password) and one archive (its members are parsed in a second round)
REAL_SAMPLE = ["unstructured__layout-parser-paper-fast.pdf", "docling__word_tables.docx",
               "docling__powerpoint_sample.pptx", "docling__xlsx_01.xlsx", "docling__html_rich_table_cells.html",
               "unstructured__password.pdf", "unstructured__simple.zip", "unstructured__stanley-cups-utf-16.csv"]


def corpus_contents(home: Home, tenant_id: str, version_id: str | None = None,
                    source: Path | None = None) -> dict[str, object]:
    """What an ingest made, without ids or times: files and their outcome, documents, chunks, the version (the
    latest, or `version_id`; files from `source` only, when given: the shared `acme` home gains files later)."""
    with home.catalog.session() as session:
        query = select(File).where(File.tenant_id == tenant_id)
        if source is not None:
            query = query.where(File.source == str(source.resolve()))
        files = sorted((f.source.rsplit("/", 1)[-1], f.original_name, f.status, f.error or "")
                       for f in session.scalars(query))
        held = version_document_ids(session, version_id) if version_id else latest_document_ids(session, tenant_id)
        documents = session.execute(select(Document.id, Document.text_sha256, File.original_name)
                                    .join(File, File.id == Document.file_id).where(Document.id.in_(held))).all()
        chunks = Counter(session.scalars(select(Chunk.text).where(Chunk.document_id.in_(held))))
    return {"files": files, "documents": sorted((name, sha) for _, sha, name in documents), "chunks": chunks}


def ingest_with(runner: str, root: Path, folder: Path) -> tuple[Home, str]:
    home = make_home(root, runner=runner, ray_workers=2)
    tenant = create_tenant(home, "acme")
    ingest_paths(home, tenant.id, [folder])
    return home, tenant.id


def _vectors_by_text(home: Home, tenant_id: str, version_id: str,
                     built: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """A version's dense vectors keyed by chunk text (ids differ between homes), built on this home's runner;
    `built` collects the (done, total) progress of the build."""
    index, _ = build_dense(home, get_version(home, tenant_id, version_id),
                           on_progress=lambda done, total: built.append((done, total)))
    with home.catalog.session() as session:
        texts = dict(session.execute(select(Chunk.id, Chunk.text).where(Chunk.id.in_(index.chunk_ids))).all())
    return {texts[chunk_id]: index.vectors[i] for i, chunk_id in enumerate(index.chunk_ids)}


def test_sample_company_on_ray_matches_the_local_ingest(ray_cluster, acme, tmp_path):
    home, tenant_id = ingest_with("ray", tmp_path / "ray", acme.company.dropbox)
    with home.catalog.session() as session:
        ray_version = latest_version(session, tenant_id).id
    local_version = acme.report.version_id  # acme's first version: its own ingest of the same drop-box
    on_ray = corpus_contents(home, tenant_id, ray_version)
    local = corpus_contents(acme.home, acme.tenant_id, local_version, acme.company.dropbox)
    assert on_ray["files"] == local["files"]
    assert on_ray["documents"] == local["documents"] and len(local["documents"]) > 20
    assert on_ray["chunks"] == local["chunks"]
    # the dense index embedded by Ray's actors holds the vectors a local build computes
    progress: list[tuple[int, int]] = []
    ray_vectors = _vectors_by_text(home, tenant_id, ray_version, progress)
    local_vectors = _vectors_by_text(acme.home, acme.tenant_id, local_version, [])
    assert ray_vectors.keys() == local_vectors.keys()
    assert max(float(np.abs(ray_vectors[t] - local_vectors[t]).max()) for t in ray_vectors) < 1e-5
    assert len(progress) > 1 and progress[-1][0] == progress[-1][1] == len(ray_vectors)
    with home.catalog.session() as session:  # progress landed on the job as on a local run
        job = session.scalars(select(Job).where(Job.tenant_id == tenant_id)).one()
        assert job.status == "succeeded" and job.progress_done == job.progress_total > 0


@pytest.mark.skipif(not (REAL / "MANIFEST.tsv").exists(),
                    reason="shared test data (real documents by others) is not present")
def test_real_documents_on_ray_match_the_local_ingest(ray_cluster, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in REAL_SAMPLE:
        (folder / name).symlink_to(REAL / name)
    results = [corpus_contents(*ingest_with(runner, tmp_path / runner, folder)) for runner in ("local", "ray")]
    assert results[0] == results[1]
    statuses = {name: status for _, name, status, _ in results[0]["files"]}
    assert statuses["unstructured__password.pdf"] != "ingested"  # refused the same way on both
    assert any(parent_member for parent_member in statuses if parent_member not in REAL_SAMPLE)  # zip members


def _dies_once(marker: str, value: int) -> int:
    """A parse task that kills the Ray worker running its batch the first time it is tried."""
    if not os.path.exists(marker):
        Path(marker).write_text("killed once")
        os.kill(os.getppid(), signal.SIGKILL)  # the parser's parent is the Ray worker
    return value * 2


def _kills_every_ray_worker(value: int) -> int:
    """A parse task that kills whatever Ray worker runs it; outside Ray (the local fallback) it just works."""
    import psutil

    if psutil.Process(os.getppid()).name().startswith("ray::"):
        os.kill(os.getppid(), signal.SIGKILL)
    return value * 3


def test_files_of_a_batch_that_keeps_killing_ray_workers_are_parsed_locally(ray_cluster):
    pool = RayParsePool(Settings(runner="ray", ray_workers=2), timeout_s=60, memory_mb=2048)
    tasks = deque([(0, _kills_every_ray_worker, (7,))])
    results = list(pool.run(tasks))
    assert [(r.task_id, r.ok, r.value) for r in results] == [(0, True, 21)]


def test_a_killed_ray_worker_s_files_are_parsed_on_retry(ray_cluster, tmp_path):
    pool = RayParsePool(Settings(runner="ray", ray_workers=2), timeout_s=60, memory_mb=2048)
    marker = str(tmp_path / "killed")
    tasks = deque((i, _dies_once, (marker, i)) for i in range(6))
    results = {r.task_id: r for r in pool.run(tasks)}
    assert Path(marker).exists()  # a worker really was killed
    assert {i: (r.ok, r.value) for i, r in results.items()} == {i: (True, i * 2) for i in range(6)}


def test_an_upload_over_the_api_is_ingested_on_ray(ray_cluster, tmp_path):
    """A server with OWNLLM_RUNNER=ray runs its ingest jobs on the cluster it joined (RAY_ADDRESS)."""
    home = make_home(tmp_path / "home")
    tenant = create_tenant(home, "acme")
    _, key = create_key(home, tenant.id)
    port = _free_port()
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)],
                              env={**server_env(home), "OWNLLM_RUNNER": "ray"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base, server, lambda: (log.seek(0), log.read())[1])
        content = b"# Night shift\n\nThe night shift at the Suzhou warehouse starts at 22:15 and ends at 06:15.\n"
        body = httpx.post(f"{base}/v1/files", headers=auth, data={"purpose": "knowledge"}, timeout=30,
                          files={"file": ("night_shift.md", content)}).json()
        deadline = time.monotonic() + 180
        while (job := httpx.get(f"{base}/v1/jobs/{body['job_id']}", headers=auth).json())["status"] in (
                "queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        assert job["status"] == "succeeded", job
        assert job["result"]["counts"]["parsed"] == 1
        hits = httpx.post(f"{base}/v1/search", headers=auth, json={"query": "night shift starts"}).json()["data"]
        assert "22:15" in hits[0]["text"]
        events = httpx.get(f"{base}/v1/jobs/{body['job_id']}/events", headers=auth).json()["data"]
        assert any(e["message"].startswith("parsing on Ray Data") for e in events), events
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
