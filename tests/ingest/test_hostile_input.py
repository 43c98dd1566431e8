"""Hostile and broken input: each case ends as a clear, recorded error naming the file, the batch
goes on, and what was stored before stays intact."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from ownllm.corpus.versions import list_files, summarize_version
from ownllm.ingest.pipeline import ingest_paths
from ownllm.ingest.sandbox import WorkerPool
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant, update_tenant_settings
from tests.ingest import hostile


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


@pytest.fixture
def hostile_batch(home: Home, tmp_path: Path) -> tuple[Home, str, dict]:
    tenant = create_tenant(home, "hostile")
    update_tenant_settings(home, tenant.id, {"limits": {"max_pages": 20, "max_file_bytes": 2_000_000,
                                              "max_archive_members": 50}})
    folder = tmp_path / "drop"
    good_docx = hostile.docx_bytes("The inspection interval for lifts is 90 days.")
    _write(folder, {
        "good.docx": good_docx,
        "good.md": b"# Safe\n\nFire doors must stay closed at all times.\n",
        "zero.pdf": b"",
        "truncated.pdf": (hostile_pdf := _pdf_bytes(tmp_path, 3))[: len(hostile_pdf) // 2],
        "truncated.docx": good_docx[: len(good_docx) // 2],
        "truncated.pptx": _pptx_bytes()[:3000],
        "truncated.xlsx": _xlsx_bytes()[:1500],
        "xxe.docx": hostile.xxe_docx(),
        "macro.docm": hostile.macro_docx(),
        "bomb.zip": hostile.zip_bomb(),
        "crowded.zip": hostile.many_members_zip(80),
        "traversal.zip": hostile.traversal_zip(),
        "huge_page.pdf": _pdf_bytes(tmp_path, 1, size=(20000, 20000)),
        "long.pdf": _pdf_bytes(tmp_path, 25),
        "white_text.pdf": _pdf_bytes(tmp_path, 1, white_text=True),
        "hidden.docx": hostile.hidden_text_docx(),
        "hidden.pptx": hostile.hidden_text_pptx(),
        "hidden.xlsx": hostile.hidden_text_xlsx(),
        "too_big.txt": b"x " * 1_100_000,
    })
    report = ingest_paths(home, tenant.id, [folder])
    return home, tenant.id, {o.name: o for o in report.outcomes}


def _pdf_bytes(tmp_path: Path, pages: int, **kwargs: object) -> bytes:
    path = tmp_path / f"gen-{pages}-{len(kwargs)}-{time.monotonic_ns()}.pdf"
    hostile.pdf_with_pages(path, pages, **kwargs)  # type: ignore[arg-type]
    return path.read_bytes()


def _pptx_bytes() -> bytes:
    from pptx import Presentation

    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[1]).shapes.title.text = "Roadmap"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["item", "price"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "status", "reason"), [
    ("zero.pdf", "failed", "file is empty (0 bytes)"),
    ("truncated.pdf", "failed", "PDF"),
    ("truncated.docx", "failed", "DOCX is damaged or truncated"),
    ("truncated.pptx", "failed", "PPTX is damaged or truncated"),
    ("truncated.xlsx", "failed", "XLSX is damaged or truncated"),
    ("xxe.docx", "failed", "declares a DTD or XML entities (possible XXE attack)"),
    ("bomb.zip", "expanded", "0 member(s)"),
    ("crowded.zip", "failed", "ZIP has 80 members, over the cap of 50"),
    ("huge_page.pdf", "failed", "larger than the 14400 pt cap"),
    ("long.pdf", "failed", "PDF has 25 pages, over the cap of 20"),
    ("too_big.txt", "failed", "over the 2000000-byte cap"),
])
def test_each_hostile_file_gets_a_clear_reason(hostile_batch: tuple, name: str, status: str, reason: str) -> None:
    _, _, outcomes = hostile_batch
    assert outcomes[name].status == status, outcomes[name]
    assert reason in (outcomes[name].reason or ""), outcomes[name].reason


def test_errors_are_stored_with_the_file_name(hostile_batch: tuple) -> None:
    home, tenant_id, _ = hostile_batch
    for file in list_files(home, tenant_id, status="failed"):
        assert file.error and file.error.startswith(f"{file.original_name}: ")


def test_the_rest_of_the_batch_is_ingested(hostile_batch: tuple) -> None:
    home, tenant_id, outcomes = hostile_batch
    names = {d.file_name for d in summarize_version(home, tenant_id).documents}
    assert {"good.docx", "good.md", "macro.docm", "white_text.pdf", "traversal.zip/docs/ok.md"} <= names
    assert outcomes["good.docx"].status == "parsed"


def test_zip_bomb_member_is_refused_by_ratio(hostile_batch: tuple) -> None:
    _, _, outcomes = hostile_batch
    assert any("zeros.txt refused" in flag and "ratio" in flag for flag in outcomes["bomb.zip"].flags)


def test_path_traversal_members_are_refused_and_safe_ones_kept(hostile_batch: tuple) -> None:
    home, tenant_id, outcomes = hostile_batch
    flags = " ".join(outcomes["traversal.zip"].flags)
    assert "../../etc/evil.txt refused: '..' in path" in flags
    assert "/abs/evil.txt refused: absolute path" in flags
    stored = {f.original_name for f in list_files(home, tenant_id)}
    assert "traversal.zip/docs/ok.md" in stored
    assert not any("evil" in name for name in stored)


def test_macros_are_flagged_and_never_run(hostile_batch: tuple) -> None:
    _, _, outcomes = hostile_batch
    assert outcomes["macro.docm"].status == "parsed"
    assert any("macro-enabled" in flag for flag in outcomes["macro.docm"].flags)


def test_hidden_white_text_is_flagged(hostile_batch: tuple) -> None:
    _, _, outcomes = hostile_batch
    assert any("hidden text" in flag for flag in outcomes["white_text.pdf"].flags)
    assert "3 hidden text run(s) (vanished, white or <1 pt)" in outcomes["hidden.docx"].flags
    assert not any("hidden" in flag for flag in outcomes["good.docx"].flags)
    assert "4 hidden text item(s) (hidden or off-slide shapes, white or <=1 pt runs)" in outcomes["hidden.pptx"].flags
    xlsx_flags = outcomes["hidden.xlsx"].flags
    assert "hidden sheet(s) with content kept: Margins" in xlsx_flags
    assert "4 hidden cell(s) (in hidden rows/columns, white or <1 pt font)" in xlsx_flags
    assert outcomes["hidden.pptx"].status == outcomes["hidden.xlsx"].status == "parsed"


def _sleep_forever() -> None:
    time.sleep(3600)


def _crash() -> None:
    os.abort()


def _eat_memory() -> bytes:
    return b"x" * (8 * 1024**3)


def _fine(value: int) -> int:
    return value * 2


def test_a_hanging_crashing_or_greedy_parser_cannot_take_down_the_job() -> None:
    tasks = [("hang", _sleep_forever, ()), ("crash", _crash, ()), ("greedy", _eat_memory, ()),
             ("ok-1", _fine, (1,)), ("ok-2", _fine, (2,))]
    with WorkerPool(workers=2, timeout_s=5, memory_mb=1024) as pool:
        results = {r.task_id: r for r in pool.run(tasks)}
    assert "timed out after 5 s" in results["hang"].error
    assert "parser process died" in results["crash"].error
    assert "out of memory" in results["greedy"].error
    assert (results["ok-1"].value, results["ok-2"].value) == (2, 4)


def test_nothing_stored_is_lost_when_a_later_batch_is_hostile(home: Home, tmp_path: Path) -> None:
    tenant = create_tenant(home, "keepsafe")
    first = tmp_path / "first"
    _write(first, {"policy.md": b"# Policy\n\nBadges are renewed every two years.\n"})
    ingest_paths(home, tenant.id, [first])
    before = summarize_version(home, tenant.id)
    bad = tmp_path / "bad"
    _write(bad, {"xxe.docx": hostile.xxe_docx(), "bomb.zip": hostile.zip_bomb()})
    ingest_paths(home, tenant.id, [bad])
    after = summarize_version(home, tenant.id)
    assert {d.id for d in before.documents} <= {d.id for d in after.documents}
    text = home.blobs.read_bytes(next(f.sha256 for f in list_files(home, tenant.id)
                                      if f.original_name == "policy.md"))
    assert b"Badges are renewed every two years." in text
    with zipfile.ZipFile(io.BytesIO(hostile.traversal_zip())) as archive:  # sanity: the fixture is hostile
        assert "../../etc/evil.txt" in archive.namelist()
