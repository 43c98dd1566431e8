"""The ingest stage order: store -> detect -> parse -> clean -> chunk -> record -> new corpus version.

Each file is handled on its own: one that fails is recorded with its reason and the
batch goes on. A file whose bytes were already parsed for this tenant is skipped, so
re-ingesting an unchanged folder creates nothing new. Document and chunk rows of a
file are written in one transaction, so a crash never leaves half a document behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ownllm.corpus.versions import create_version, resolve_version, version_document_ids
from ownllm.errors import NotFound
from ownllm.ingest.chunk import chunk_document
from ownllm.ingest.clean import clean_text
from ownllm.ingest.detect import detect_type
from ownllm.ingest.lang import detect_lang
from ownllm.ingest.parsed import ParsedDocument, ParseError, UnsupportedType
from ownllm.ingest.parsers import parse
from ownllm.jobs.tracker import JobTracker, ProgressCallback
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home


@dataclass
class FileOutcome:
    name: str
    status: str  # parsed | unchanged | duplicate | failed | unsupported
    detected_type: str = ""
    reason: str | None = None
    n_chunks: int = 0


@dataclass
class IngestReport:
    job_id: str
    version_id: str | None
    version_number: int | None
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def new_chunks(self) -> int:
        return sum(outcome.n_chunks for outcome in self.outcomes)

    def as_dict(self) -> dict:
        return {
            "version_id": self.version_id,
            "version_number": self.version_number,
            "counts": {s: self.count(s) for s in ("parsed", "unchanged", "duplicate", "failed", "unsupported")},
            "new_chunks": self.new_chunks,
            "seconds": round(self.seconds, 2),
            "problems": [
                {"file": o.name, "status": o.status, "reason": o.reason}
                for o in self.outcomes
                if o.status in ("failed", "unsupported")
            ],
        }


def collect_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """(path on disk, name recorded in the catalog): folders are walked, hidden entries skipped."""
    found: list[tuple[Path, str]] = []
    for root in paths:
        root = Path(root)
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                    found.append((path, relative.as_posix()))
        elif root.is_file():
            found.append((root, root.name))
        else:
            raise NotFound(f"{root}: no such file or folder")
    return found


def _clean(document: ParsedDocument) -> ParsedDocument:
    for unit in document.units:
        for block in unit.blocks:
            block.text = clean_text(block.text, keep_layout=block.kind in ("table", "code"))
        unit.blocks = [block for block in unit.blocks if block.text]
    return document


def _record_document(home: Home, file_id: str, name: str, parsed: ParsedDocument) -> int:
    settings = home.settings
    full_text, spans = chunk_document(parsed, settings.chunk_tokens, settings.chunk_overlap_tokens)
    text_sha = home.blobs.put_bytes(full_text.encode("utf-8"))
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        assert file is not None
        document = Document(
            tenant_id=file.tenant_id,
            file_id=file_id,
            title=parsed.title.strip() or Path(name).stem,
            lang=detect_lang(full_text),
            text_sha256=text_sha,
            n_chars=len(full_text),
            n_units=len(parsed.units),
            parser=parsed.parser,
        )
        session.add(document)
        session.flush()
        session.add_all(
            Chunk(
                document_id=document.id, ordinal=i, text=span.text, n_tokens=span.n_tokens, unit=span.unit,
                unit_number=span.unit_number, heading=span.heading, char_start=span.char_start,
                char_end=span.char_end,
            )
            for i, span in enumerate(spans)
        )
        file.status, file.error = "parsed", None
    return len(spans)


def _ingest_one(
    home: Home, tenant_id: str, path: Path, name: str, seen: dict[str, str]
) -> tuple[FileOutcome, str | None]:
    """Handle one file; returns its outcome and, if a new document was made, its file id."""
    sha, size = home.blobs.put_file(path)
    with home.catalog.session() as session:
        file = session.scalar(select(File).where(File.tenant_id == tenant_id, File.sha256 == sha))
        if file is not None and file.status == "parsed":
            if sha in seen:
                return FileOutcome(name, "duplicate", file.detected_type, f"same bytes as {seen[sha]}"), None
            return FileOutcome(name, "unchanged", file.detected_type), None
        data = home.blobs.read_bytes(sha)
        detection = detect_type(data, name)
        if file is None:
            file = File(tenant_id=tenant_id, sha256=sha, size=size, original_name=name,
                        detected_type=detection.type)
            session.add(file)
            session.flush()
        file.detected_type = detection.type
        file_id = file.id
    seen[sha] = name
    try:
        if detection.type == "empty":
            raise ParseError("file is empty (0 bytes)")
        parsed = _clean(parse(data, detection.type, name))
        if not parsed.has_text:
            raise ParseError("no text found in the file")
        n_chunks = _record_document(home, file_id, name, parsed)
        return FileOutcome(name, "parsed", detection.type, detection.note, n_chunks), file_id
    except UnsupportedType as exc:
        status, reason = "unsupported", str(exc)
    except ParseError as exc:
        status, reason = "failed", str(exc)
    except Exception as exc:  # a parser bug must not stop the batch; record it like any failure
        status, reason = "failed", f"parser crashed: {type(exc).__name__}: {exc}"
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        assert file is not None
        file.status, file.error = status, f"{name}: {reason}"
    return FileOutcome(name, status, detection.type, reason), None


def ingest_paths(
    home: Home, tenant_id: str, paths: Iterable[Path], on_progress: ProgressCallback | None = None
) -> IngestReport:
    """Ingest files and folders into the tenant's data space; returns what happened to each file."""
    started = time.monotonic()
    files = collect_files(paths)
    tracker = JobTracker.create(home, "ingest", tenant_id, {"files": len(files)}, on_progress)
    tracker.start(total=len(files))
    report = IngestReport(job_id=tracker.job_id, version_id=None, version_number=None)
    new_file_ids: list[str] = []
    seen: dict[str, str] = {}
    try:
        for index, (path, name) in enumerate(files):
            tracker.progress(index, len(files), "parse", name)
            outcome, file_id = _ingest_one(home, tenant_id, path, name, seen)
            report.outcomes.append(outcome)
            if file_id is not None:
                new_file_ids.append(file_id)
            if outcome.status in ("failed", "unsupported"):
                tracker.event(f"{name}: {outcome.reason}", level="warning", file=name, status=outcome.status)
        tracker.progress(len(files), len(files), "version", None)
        if new_file_ids:
            with home.catalog.session() as session:
                try:
                    previous_ids = version_document_ids(session, resolve_version(session, tenant_id).id)
                except NotFound:
                    previous_ids = []
                new_doc_ids = list(
                    session.scalars(select(Document.id).where(Document.file_id.in_(new_file_ids)))
                )
                version = create_version(session, tenant_id, previous_ids + new_doc_ids, tracker.job_id)
                report.version_id, report.version_number = version.id, version.number
        report.seconds = time.monotonic() - started
        tracker.succeed(report.as_dict())
    except BaseException as exc:
        tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    return report
