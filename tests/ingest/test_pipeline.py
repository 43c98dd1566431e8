"""Ingest of the sample company with real parsers: documents, errors, versions, re-ingest."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from ownllm.corpus.versions import list_files, list_versions, summarize_version
from ownllm.ingest.parsers import PARSERS
from ownllm.ingest.pipeline import ingest_paths
from ownllm.jobs.tracker import get_job, job_events
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant
from tests.conftest import IngestedHome

SUPPORTED_EXTENSIONS = {".pdf", ".docx", ".html", ".md", ".txt"}


def test_every_supported_sample_file_becomes_a_document(acme: IngestedHome) -> None:
    supported = sorted(p.name for p in acme.company.dropbox.iterdir() if p.suffix in SUPPORTED_EXTENSIONS)
    summary = summarize_version(acme.home, acme.tenant_id)
    assert sorted(d.file_name for d in summary.documents) == supported
    assert all(d.n_chunks >= 1 for d in summary.documents)
    langs = {d.file_name: d.lang for d in summary.documents}
    assert langs["保修政策.docx"] == "zh" and langs["brochure_2026.pdf"] == "en"
    assert set(PARSERS) == {"pdf", "docx", "html", "markdown", "text"}


def test_unsupported_formats_are_recorded_with_a_clear_reason(acme: IngestedHome) -> None:
    rejected = {f.original_name: f for f in list_files(acme.home, acme.tenant_id, status="unsupported")}
    assert set(rejected) == {"delivery_note_scan.png", "price_list_2026.xlsx", "价格表.xlsx",
                             "sales_kickoff_2026.pptx", "新品发布会.pptx"}
    assert rejected["价格表.xlsx"].error == "价格表.xlsx: xlsx files are not supported yet (no parser for this type)"


def test_chunks_point_back_into_the_document_text(acme: IngestedHome) -> None:
    with acme.home.catalog.session() as session:
        doc = session.scalar(select(Document).join(File).where(File.original_name == "warranty_policy.pdf"))
        assert doc is not None
        full_text = acme.home.blobs.read_bytes(doc.text_sha256).decode()
        chunks = list(session.scalars(select(Chunk).where(Chunk.document_id == doc.id)))
    assert {c.unit_number for c in chunks} == {1, 2}
    for chunk in chunks:
        assert full_text[chunk.char_start:chunk.char_end] == chunk.text


def _dropbox_with_bad_files(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    (target / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer<<>>")
    (target / "empty.txt").write_bytes(b"")
    (target / "really_a_png.pdf").write_bytes((source / "delivery_note_scan.png").read_bytes()[:5000] + b"x")
    return target


def test_bad_files_get_clear_errors_and_the_batch_goes_on(home: Home, tmp_path: Path, acme: IngestedHome) -> None:
    tenant = create_tenant(home, "batch")
    dropbox = _dropbox_with_bad_files(acme.company.dropbox, tmp_path / "dropbox")
    report = ingest_paths(home, tenant.id, [dropbox])
    outcomes = {o.name: o for o in report.outcomes}
    assert outcomes["broken.pdf"].status == "failed"
    assert "PDF" in (outcomes["broken.pdf"].reason or "")
    assert outcomes["empty.txt"].status == "failed"
    assert outcomes["empty.txt"].reason == "file is empty (0 bytes)"
    assert outcomes["really_a_png.pdf"].status == "unsupported"
    assert outcomes["really_a_png.pdf"].detected_type == "png"
    assert report.count("parsed") == 18
    failed = {f.original_name: f.error for f in list_files(home, tenant.id, status="failed")}
    assert failed["broken.pdf"].startswith("broken.pdf: ")  # the stored error names the file
    job = get_job(home, report.job_id, tenant.id)
    assert job.status == "succeeded" and job.progress_done == job.progress_total == len(outcomes)
    assert any("broken.pdf" in e.message for e in job_events(home, report.job_id))


def test_reingesting_unchanged_files_creates_nothing_new(home: Home, acme: IngestedHome, tmp_path: Path) -> None:
    tenant = create_tenant(home, "again")
    first = ingest_paths(home, tenant.id, [acme.company.dropbox])
    with home.catalog.session() as session:
        counts = (session.scalar(select(func.count(Document.id))), session.scalar(select(func.count(Chunk.id))))
    second = ingest_paths(home, tenant.id, [acme.company.dropbox])
    assert first.version_number == 1
    assert second.version_number is None
    assert second.count("unchanged") == 18 and second.count("parsed") == 0
    with home.catalog.session() as session:
        assert (session.scalar(select(func.count(Document.id))),
                session.scalar(select(func.count(Chunk.id)))) == counts
    assert len(list_versions(home, tenant.id)) == 1

    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "new_policy.md").write_text("# Bike storage\n\nBikes are stored indoors overnight.\n")
    (extra / "copy_of_overview.md").write_bytes((acme.company.dropbox / "company_overview.md").read_bytes())
    third = ingest_paths(home, tenant.id, [extra])
    assert third.version_number == 2
    assert {o.name: o.status for o in third.outcomes} == {"copy_of_overview.md": "unchanged",
                                                          "new_policy.md": "parsed"}
    v1, v2 = summarize_version(home, tenant.id, 1), summarize_version(home, tenant.id, 2)
    assert len(v2.documents) == len(v1.documents) + 1  # v1 is untouched, v2 adds one
    assert len(summarize_version(home, tenant.id, "1").documents) == 18


def test_duplicate_bytes_under_two_names_are_ingested_once(home: Home, tmp_path: Path) -> None:
    tenant = create_tenant(home, "dupes")
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.md").write_text("# Same\n\ncontent here\n")
    (folder / "b.md").write_text("# Same\n\ncontent here\n")
    report = ingest_paths(home, tenant.id, [folder])
    assert [(o.name, o.status) for o in report.outcomes] == [("a.md", "parsed"), ("b.md", "duplicate")]
    assert report.outcomes[1].reason == "same bytes as a.md"
