"""Ingest of the sample company with real parsers: documents, errors, versions, sync, resume."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from ownllm.corpus.versions import diff_versions, list_files, list_versions, summarize_version
from ownllm.ingest.pipeline import ingest_paths
from ownllm.jobs.tracker import get_job, job_events
from ownllm.store.catalog import Chunk, Document, File, Job
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant
from tests.conftest import IngestedHome


def test_every_sample_file_becomes_a_document(acme: IngestedHome) -> None:
    summary = summarize_version(acme.home, acme.tenant_id)
    assert sorted(d.file_name for d in summary.documents) == sorted(p.name for p in acme.company.dropbox.iterdir())
    assert all(d.n_chunks >= 1 for d in summary.documents)
    langs = {d.file_name: d.lang for d in summary.documents}
    assert langs["保修政策.docx"] == "zh" and langs["brochure_2026.pdf"] == "en"
    assert langs["新品发布会.pptx"] == "zh" and langs["support_faq.html"] == "en"


def test_slides_sheets_and_scans_keep_their_provenance(acme: IngestedHome) -> None:
    with acme.home.catalog.session() as session:
        rows = session.execute(select(File.original_name, Chunk.unit, Chunk.unit_number, Chunk.unit_label, Chunk.text)
                               .join(Document, Document.file_id == File.id)
                               .join(Chunk, Chunk.document_id == Document.id)
                               .where(File.tenant_id == acme.tenant_id)).all()
    by_file: dict[str, list] = {}
    for name, unit, number, label, text in rows:
        by_file.setdefault(name, []).append((unit, number, label, text))
    assert {(u, n, lbl) for u, n, lbl, _ in by_file["price_list_2026.xlsx"]} >= {("sheet", 2, "Accessories")}
    accessories = next(t for u, n, _, t in by_file["price_list_2026.xlsx"] if n == 2)
    assert "| VM-B540 spare battery | 410 USD |" in accessories
    slides = by_file["sales_kickoff_2026.pptx"]
    assert any(n == 2 and "Speaker notes:" in t and "two new account managers" in t for _, n, _, t in slides)
    scan = by_file["delivery_note_scan.png"]
    assert scan[0][0] == "page" and "Hollowmere Cycles" in scan[0][3]
    with acme.home.catalog.session() as session:
        flags = session.scalar(select(File.flags).where(File.original_name == "delivery_note_scan.png"))
    assert any("OCR" in flag for flag in flags)


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
    (target / "really_a_png.pdf").write_bytes((source / "delivery_note_scan.png").read_bytes()[:5000])
    (target / "program.bin").write_bytes(bytes(range(256)) * 8)
    return target


def test_bad_files_get_clear_errors_and_the_batch_goes_on(home: Home, tmp_path: Path, acme: IngestedHome) -> None:
    tenant = create_tenant(home, "batch")
    dropbox = _dropbox_with_bad_files(acme.company.dropbox, tmp_path / "dropbox")
    report = ingest_paths(home, tenant.id, [dropbox])
    outcomes = {o.name: o for o in report.outcomes}
    assert outcomes["broken.pdf"].status == "failed"
    assert "PDF" in (outcomes["broken.pdf"].reason or "")
    assert outcomes["empty.txt"].reason == "file is empty (0 bytes)"
    assert outcomes["really_a_png.pdf"].status == "failed"
    assert outcomes["really_a_png.pdf"].detected_type == "png"
    assert "name says pdf but the content is png" in outcomes["really_a_png.pdf"].flags or \
        "image" in (outcomes["really_a_png.pdf"].reason or "")
    assert outcomes["program.bin"].status == "unsupported"
    assert report.count("parsed") == len(acme.company.manifest())
    failed = {f.original_name: f.error for f in list_files(home, tenant.id, status="failed")}
    assert failed["broken.pdf"].startswith("broken.pdf: ")  # the stored error names the file
    job = get_job(home, report.job_id, tenant.id)
    assert job.status == "succeeded" and job.progress_done == job.progress_total == len(outcomes)
    assert any("broken.pdf" in e.message for e in job_events(home, report.job_id))


def test_sync_skips_unchanged_reparses_changed_and_tombstones_deleted(home: Home, tmp_path: Path) -> None:
    tenant = create_tenant(home, "sync")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.md").write_text("# Keep\n\nThe office opens at 08:30 on weekdays.\n")
    (folder / "edit.md").write_text("# Edit\n\nThe canteen serves lunch from 11:45 to 13:30.\n")
    (folder / "drop.md").write_text("# Drop\n\nParking permits are renewed every January.\n")
    first = ingest_paths(home, tenant.id, [folder])
    with home.catalog.session() as session:
        counts = (session.scalar(select(func.count(Document.id))), session.scalar(select(func.count(Chunk.id))))
    again = ingest_paths(home, tenant.id, [folder])
    assert again.version_number is None and again.count("unchanged") == 3
    with home.catalog.session() as session:
        assert (session.scalar(select(func.count(Document.id))),
                session.scalar(select(func.count(Chunk.id)))) == counts

    (folder / "edit.md").write_text("# Edit\n\nThe canteen now serves lunch from 12:00 to 14:00 only.\n")
    (folder / "drop.md").unlink()
    (folder / "new.md").write_text("# New\n\nVisitors sign in at the front desk and wear a badge.\n")
    third = ingest_paths(home, tenant.id, [folder])
    assert (first.version_number, third.version_number) == (1, 2)
    statuses = {o.name: o.status for o in third.outcomes}
    assert statuses == {"keep.md": "unchanged", "edit.md": "parsed", "new.md": "parsed"}
    assert third.removed == ["drop.md"]
    diff = diff_versions(home, tenant.id, 1, 2)
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (["new.md"], ["drop.md"], ["edit.md"], 1)
    assert len(summarize_version(home, tenant.id, 1).documents) == 3  # version 1 is untouched
    dropped = [f for f in list_files(home, tenant.id) if f.original_name == "drop.md"]
    assert dropped[0].deleted_at is not None  # tombstoned, bytes still stored
    assert home.blobs.exists(dropped[0].sha256)
    assert len(list_versions(home, tenant.id)) == 2


def test_duplicates_exact_and_near_are_ingested_once(home: Home, tmp_path: Path) -> None:
    tenant = create_tenant(home, "dupes")
    folder = tmp_path / "d"
    folder.mkdir()
    body = " ".join(f"Clause {i}: the supplier delivers part {i} within {i + 3} working days." for i in range(40))
    (folder / "a.md").write_text(f"# Contract\n\n{body}\n")
    (folder / "b.md").write_text(f"# Contract\n\n{body}\n")
    (folder / "c.txt").write_text(f"Contract\n\n{body} Signed in Utrecht.\n")
    report = ingest_paths(home, tenant.id, [folder])
    statuses = {o.name: (o.status, o.reason) for o in report.outcomes}
    assert statuses["a.md"][0] == "parsed"
    assert statuses["b.md"] == ("duplicate", "same bytes as another file")
    assert statuses["c.txt"][0] == "duplicate" and "near-duplicate of a.md" in statuses["c.txt"][1]
    assert len(summarize_version(home, tenant.id).documents) == 1


def test_a_killed_job_is_marked_interrupted_and_the_rerun_completes(home: Home, tmp_path: Path) -> None:
    tenant = create_tenant(home, "resume")
    folder = tmp_path / "r"
    folder.mkdir()
    for i in range(4):
        (folder / f"doc{i}.md").write_text(f"# Doc {i}\n\nPolicy number {i} says the limit is {i * 7} units.\n")
    with home.catalog.session() as session:  # what a killed run leaves behind: a running job, dead pid
        session.add(Job(kind="ingest", tenant_id=tenant.id, status="running", pid=2**22 + 12345))
    report = ingest_paths(home, tenant.id, [folder])
    assert report.count("parsed") == 4 and report.version_number == 1
    with home.catalog.session() as session:
        stale = session.scalar(select(Job).where(Job.pid == 2**22 + 12345))
        assert stale is not None and stale.status == "failed" and "interrupted" in (stale.error or "")


def test_the_index_build_is_part_of_the_job_with_progress_and_the_job_time_is_wall_time(
        home: Home, tmp_path: Path) -> None:
    import time

    from ownllm.services.ingestion import ingest_paths_and_index

    tenant = create_tenant(home, "indexed")
    folder = tmp_path / "notes"
    folder.mkdir()
    for number in range(3):
        (folder / f"note{number}.txt").write_text(
            f"Note {number}: the spare battery VM-B54{number} costs {400 + number} USD and ships in two days.\n\n"
            * 3, encoding="utf-8")
    seen: list[tuple[int, int, str | None, str | None]] = []
    started = time.monotonic()
    report = ingest_paths_and_index(home, tenant.id, [folder], on_progress=lambda *step: seen.append(step))
    wall = time.monotonic() - started
    embedding = [(done, total) for done, total, stage, item in seen if stage == "index" and "embedded" in (item or "")]
    assert embedding and embedding[-1][0] == embedding[-1][1] > 0  # chunks embedded out of all, to the end
    job = get_job(home, report.job_id)
    assert job.status == "succeeded" and job.result["index"]["embedded"] == embedding[-1][1]
    assert job.result["seconds"] == round(report.seconds, 2)
    assert 0.8 * wall <= report.seconds <= wall  # the whole job, index build included
    assert [event.message for event in job_events(home, report.job_id)][-2:] == ["indexes built", "job succeeded"]
