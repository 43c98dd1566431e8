"""The ingest stage order: store -> detect -> parse (in a sandboxed worker) -> clean -> chunk ->
dedupe -> record -> new corpus version.

Ingesting a folder *syncs* it: unchanged files are skipped by content hash, changed files
are parsed again, files gone from the folder are tombstoned (kept in the store, left out of
the new version). Each file's outcome is committed as soon as it is known, so a killed job
loses nothing: running it again skips what was done and composes the same version.
A file that fails is recorded with its reason and the batch goes on.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ownllm.corpus.versions import create_version, resolve_version, version_document_ids
from ownllm.errors import NotFound
from ownllm.ingest.chunk import block_offsets, chunk_document
from ownllm.ingest.cleaning.config import CleaningConfig, cleaning_config
from ownllm.ingest.cleaning.dedupe import NearDuplicateIndex, from_bytes, signature, to_bytes
from ownllm.ingest.cleaning.run import clean_document
from ownllm.ingest.detect import detect_type
from ownllm.ingest.lang import detect_lang
from ownllm.ingest.limits import Limits
from ownllm.ingest.parsed import ParsedDocument
from ownllm.ingest.parsers import SUPPORTED_TYPES, parse_file
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.sandbox import TaskResult, WorkerPool
from ownllm.ingest.tokens import base_model_token_counter
from ownllm.jobs.tracker import JobTracker, ProgressCallback, mark_interrupted
from ownllm.store.catalog import Chunk, Document, File, Redaction, Tenant, utcnow
from ownllm.store.home import Home

KEEP_STATUSES = ("parsed", "duplicate", "expanded")


@dataclass
class FileOutcome:
    name: str
    status: str  # parsed | unchanged | duplicate | expanded | failed | unsupported
    detected_type: str = ""
    reason: str | None = None
    n_chunks: int = 0
    flags: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    job_id: str
    version_id: str | None
    version_number: int | None
    outcomes: list[FileOutcome] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def new_chunks(self) -> int:
        return sum(outcome.n_chunks for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        statuses = ("parsed", "unchanged", "duplicate", "expanded", "failed", "unsupported")
        return {
            "version_id": self.version_id, "version_number": self.version_number,
            "counts": {s: self.count(s) for s in statuses}, "removed": self.removed,
            "new_chunks": self.new_chunks, "seconds": round(self.seconds, 2),
            "problems": [{"file": o.name, "status": o.status, "reason": o.reason}
                         for o in self.outcomes if o.status in ("failed", "unsupported")],
        }


@dataclass(frozen=True)
class SourceFile:
    path: Path | None  # None for archive members, whose bytes are already in the blob store
    name: str
    source: str
    sync: bool  # part of a folder sync (deletions count) or a single file
    parent_id: str | None = None
    depth: int = 0


def collect_files(paths: Iterable[Path], source: str | None = None) -> list[SourceFile]:
    """Folders are walked (hidden entries skipped) and synced; single files replace their own path.

    `source` names where single files come from (e.g. `upload`); by default their folder.
    """
    found: list[SourceFile] = []
    for root in paths:
        root = Path(root)
        if root.is_dir():
            source = str(root.resolve())
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                    found.append(SourceFile(path, relative.as_posix(), source, True))
        elif root.is_file():
            found.append(SourceFile(root, root.name, source or str(root.resolve().parent), False))
        else:
            raise NotFound(f"{root}: no such file or folder")
    return found


class _Run:
    """One ingest job's state: what was seen, which documents the new version should hold."""

    def __init__(self, home: Home, tenant_id: str, tracker: JobTracker) -> None:
        self.home, self.tenant_id, self.tracker = home, tenant_id, tracker
        with home.catalog.session() as session:
            tenant = session.get(Tenant, tenant_id)
            settings = dict(tenant.settings or {}) if tenant else {}
        self.config: CleaningConfig = cleaning_config(settings)
        self.limits = Limits().with_overrides(settings.get("limits"))
        self.options = ParseOptions(self.limits, home.settings.model_cache, settings.get("speech_language"),
                                    settings.get("chinese_script", "simplified"))
        self.secret = home.secret()
        self.count_tokens = base_model_token_counter()
        self.report = IngestReport(tracker.job_id, None, None)
        self.seen: set[tuple[str, str]] = set()  # (source, path) present in this run
        self.current_docs: set[str] = set()
        self.sync_sources: set[str] = set()
        self.tasks: deque = deque()
        self.pending: dict[str, tuple[SourceFile, str, str]] = {}  # file id -> (source file, type, note)
        self.done = 0
        self.total = 0
        self.recorded = 0
        self.queued_shas: dict[str, str] = {}  # sha256 -> file id queued for parsing in this run
        self.queue_order: list[str] = []  # file ids in the order their parse tasks were queued
        self._load_dedupe_state()

    # ---------------------------------------------------------------- dedupe state of the corpus
    def _load_dedupe_state(self) -> None:
        self.near = NearDuplicateIndex(self.config.near_dedupe_threshold)
        self.text_hashes: dict[str, str] = {}
        self.doc_paths: dict[str, tuple[str, str]] = {}
        self.path_docs: dict[tuple[str, str], set[str]] = {}  # the reverse of doc_paths
        with self.home.catalog.session() as session:
            try:
                self.previous = version_document_ids(session, resolve_version(session, self.tenant_id).id)
            except NotFound:
                self.previous = []
            rows = session.execute(
                select(Document.id, Document.text_sha256, Document.minhash, File.source, File.original_name)
                .join(File, File.id == Document.file_id).where(Document.id.in_(self.previous))
            ).all()
        for doc_id, text_sha, minhash, source, name in rows:
            self._remember(doc_id, text_sha, minhash, (source, name))

    def _remember(self, doc_id: str, text_sha: str, minhash: bytes | None, path: tuple[str, str]) -> None:
        self.text_hashes.setdefault(text_sha, doc_id)
        self.doc_paths[doc_id] = path
        self.path_docs.setdefault(path, set()).add(doc_id)
        if minhash is not None:
            self.near.add(doc_id, from_bytes(minhash))

    # ---------------------------------------------------------------- per file
    def outcome(self, outcome: FileOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.done += 1
        self.tracker.progress(self.done, self.total, "parse", outcome.name)
        if outcome.status in ("failed", "unsupported"):
            self.tracker.event(f"{outcome.name}: {outcome.reason}", level="warning", file=outcome.name,
                               status=outcome.status)

    def _set_status(self, file_id: str, status: str, error: str | None = None, flags: list[str] | None = None,
                    duplicate_of: str | None = None) -> None:
        with self.home.catalog.session() as session:
            file = session.get(File, file_id)
            assert file is not None
            file.status, file.error, file.deleted_at = status, error, None
            file.flags = sorted(set(file.flags or []) | set(flags or []))
            file.duplicate_of = duplicate_of

    def _fail(self, file_id: str, item: SourceFile, kind: str, status: str, reason: str,
              flags: list[str] | None = None) -> None:
        self._set_status(file_id, status, f"{item.name}: {reason}", flags)
        self.outcome(FileOutcome(item.name, status, kind, reason, flags=flags or []))

    def admit(self, item: SourceFile, blob_sha: str | None = None, data_size: int | None = None) -> None:
        """Store one file, decide whether it needs parsing, and queue it if so."""
        self.seen.add((item.source, item.name))
        if item.sync:
            self.sync_sources.add(item.source)
        if blob_sha is None:
            assert item.path is not None
            size = item.path.stat().st_size
            if size > self.limits.max_file_bytes:
                digest = _sha256_of(item.path)
                file_id = self._file_row(item, digest, size, "oversize")
                self._fail(file_id, item, "oversize", "failed",
                           f"file is {size} bytes, over the {self.limits.max_file_bytes}-byte cap")
                return
            blob_sha, data_size = self.home.blobs.put_file(item.path)
        with self.home.catalog.session() as session:
            existing = session.scalar(select(File).where(
                File.tenant_id == self.tenant_id, File.source == item.source, File.original_name == item.name,
                File.sha256 == blob_sha))
            if existing is not None and existing.status in KEEP_STATUSES:
                self._keep_unchanged(session, existing, item)
                return
        data = self.home.blobs.read_bytes(blob_sha)
        detection = detect_type(data, item.name)
        file_id = self._file_row(item, blob_sha, data_size or len(data), detection.type)
        flags = [detection.note] if detection.note else []
        if detection.type == "empty":
            self._fail(file_id, item, "empty", "failed", "file is empty (0 bytes)")
            return
        if detection.type not in SUPPORTED_TYPES and detection.type != "ole":
            self._fail(file_id, item, detection.type, "unsupported", f"{detection.type} files are not supported",
                       flags)
            return
        queued_twin = self.queued_shas.get(blob_sha)
        if queued_twin is not None and queued_twin != file_id:
            self._set_status(file_id, "duplicate", None, flags, duplicate_of=queued_twin)
            self.outcome(FileOutcome(item.name, "duplicate", detection.type, "same bytes as another file"))
            return
        original = self._same_bytes_elsewhere(blob_sha, file_id)
        if original is not None:
            other_file, doc_id = original
            self._set_status(file_id, "duplicate", None, flags, duplicate_of=other_file)
            self.current_docs.add(doc_id)
            self.outcome(FileOutcome(item.name, "duplicate", detection.type, "same bytes as another file"))
            return
        self.pending[file_id] = (item, detection.type, detection.note or "")
        self.queued_shas[blob_sha] = file_id
        self.queue_order.append(file_id)
        self.tasks.append((file_id, parse_file, (str(self.home.blobs.path_for(blob_sha)), detection.type,
                                                 item.name, self.options)))

    def _file_row(self, item: SourceFile, sha: str, size: int, kind: str) -> str:
        with self.home.catalog.session() as session:
            row = session.scalar(select(File).where(
                File.tenant_id == self.tenant_id, File.source == item.source, File.original_name == item.name,
                File.sha256 == sha))
            if row is None:
                row = File(tenant_id=self.tenant_id, source=item.source, original_name=item.name, sha256=sha,
                           size=size, detected_type=kind, parent_id=item.parent_id)
                session.add(row)
                session.flush()
            row.detected_type = kind
            return row.id

    def _same_bytes_elsewhere(self, sha: str, file_id: str) -> tuple[str, str] | None:
        with self.home.catalog.session() as session:
            row = session.execute(
                select(File.id, Document.id).join(Document, Document.file_id == File.id)
                .where(File.tenant_id == self.tenant_id, File.sha256 == sha, File.id != file_id)
            ).first()
        return (row[0], row[1]) if row else None

    def _keep_unchanged(self, session: Any, file: File, item: SourceFile) -> None:
        """An unchanged file keeps its documents, and so do the members of an unchanged archive."""
        family = [file]
        frontier = [file.id]
        while frontier:
            children = list(session.scalars(select(File).where(File.parent_id.in_(frontier))))
            family += children
            frontier = [child.id for child in children]
        for member in family:
            self.seen.add((member.source, member.original_name))
            target = member.duplicate_of or member.id
            doc_id = session.scalar(select(Document.id).where(Document.file_id == target)
                                    .order_by(Document.created_at.desc()))
            if doc_id is not None and member.status in ("parsed", "duplicate"):
                self.current_docs.add(doc_id)
            member.deleted_at = None
        self.outcome(FileOutcome(item.name, "unchanged", file.detected_type))

    # ---------------------------------------------------------------- parse results
    def finish(self, result: TaskResult) -> None:
        item, kind, note = self.pending.pop(result.task_id)
        if not result.ok:
            self._fail(result.task_id, item, kind, result.status, result.error)
            return
        parsed: ParsedDocument = result.value
        flags = parsed.flags + ([note] if note else [])
        for member, reason in parsed.rejected_members:
            flags.append(f"member {member} refused: {reason}")
            self.tracker.event(f"{item.name}: member {member} refused: {reason}", level="warning")
        if parsed.attachments:
            self._admit_members(result.task_id, item, parsed)
        if not parsed.has_text:
            if parsed.attachments or parsed.rejected_members:
                self._set_status(result.task_id, "expanded", None, flags)
                self.outcome(FileOutcome(item.name, "expanded", kind, f"{len(parsed.attachments)} member(s)",
                                         flags=flags))
            else:
                self._fail(result.task_id, item, kind, "failed", "no text found in the file", flags)
            return
        self._record(result.task_id, item, kind, parsed, flags)

    def _admit_members(self, file_id: str, item: SourceFile, parsed: ParsedDocument) -> None:
        if item.depth + 1 > self.limits.max_archive_depth:
            self.tracker.event(f"{item.name}: archives nested deeper than {self.limits.max_archive_depth}; "
                               "members not ingested", level="warning")
            return
        for attachment in parsed.attachments:
            member = SourceFile(None, f"{item.name}/{attachment.name}", item.source, item.sync, file_id,
                                item.depth + 1)
            self.total += 1
            self.admit(member, self.home.blobs.put_bytes(attachment.data), len(attachment.data))

    def _record(self, file_id: str, item: SourceFile, kind: str, parsed: ParsedDocument, flags: list[str]) -> None:
        cleaned = clean_document(parsed, self.config, self.secret)
        if not parsed.has_text or sum(len(b.text) for u in parsed.units for b in u.blocks) < \
                self.config.min_document_chars:
            self._fail(file_id, item, kind, "failed",
                       f"too little text after cleaning (under {self.config.min_document_chars} characters)", flags)
            return
        settings = self.home.settings
        full_text, spans = chunk_document(parsed, settings.chunk_tokens, settings.chunk_overlap_tokens,
                                          self.count_tokens)
        text_sha = hashlib.sha256(full_text.encode("utf-8")).hexdigest()
        minhash = signature(full_text)
        same_path = self.path_docs.get((item.source, item.name), set())
        twin = self.text_hashes.get(text_sha)
        near = self.near.best_match(minhash, exclude=same_path) if self.config.near_dedupe else None
        if (twin is not None and twin not in same_path) or near is not None:
            other = twin if twin is not None and twin not in same_path else near[0]  # type: ignore[index]
            similarity = 1.0 if other == twin else near[1]  # type: ignore[index]
            other_name = self.doc_paths.get(other, ("", other))[1]
            why = (f"same text as {other_name}" if other == twin
                   else f"near-duplicate of {other_name} (similarity {similarity:.2f})")
            self._set_status(file_id, "duplicate", f"{item.name}: {why}", flags)
            self.current_docs.add(other)
            self.outcome(FileOutcome(item.name, "duplicate", kind, why, flags=flags))
            return
        offsets = block_offsets(parsed)
        self.home.blobs.put_bytes(full_text.encode("utf-8"))
        with self.home.catalog.session() as session:
            file = session.get(File, file_id)
            assert file is not None
            report = dict(cleaned.report)
            if parsed.meta:
                report["parse"] = parsed.meta
            document = Document(
                tenant_id=self.tenant_id, file_id=file_id, title=parsed.title.strip() or Path(item.name).stem,
                lang=detect_lang(full_text), text_sha256=text_sha, n_chars=len(full_text),
                n_units=len(parsed.units), parser=parsed.parser, cleaning=report, minhash=to_bytes(minhash),
            )
            session.add(document)
            session.flush()
            session.add_all(Chunk(
                document_id=document.id, ordinal=i, text=s.text, n_tokens=s.n_tokens, unit=s.unit,
                unit_number=s.unit_number, unit_label=s.unit_label, heading=s.heading, char_start=s.char_start,
                char_end=s.char_end) for i, s in enumerate(spans))
            session.add_all(Redaction(
                document_id=document.id, kind=span.kind, char_start=offsets[id(block)] + span.start,
                char_end=offsets[id(block)] + span.end, value_hmac=span.value_hmac)
                for block, span in cleaned.redactions if id(block) in offsets)
            file.status, file.error, file.deleted_at = "parsed", None, None
            file.flags = sorted(set(flags))
            doc_id = document.id
        self._remember(doc_id, text_sha, to_bytes(minhash), (item.source, item.name))
        self.current_docs.add(doc_id)
        self.outcome(FileOutcome(item.name, "parsed", kind, None, len(spans), flags))

    # ---------------------------------------------------------------- the new version
    def compose_version(self) -> None:
        """Previous version, minus what this run replaced or saw deleted, plus what it holds now."""
        with self.home.catalog.session() as session:
            rows = session.execute(
                select(Document.id, File.id, File.source, File.original_name)
                .join(File, File.id == Document.file_id).where(Document.id.in_(self.previous))).all()
            keep = set()
            for doc_id, file_id, source, name in rows:
                if (source, name) in self.seen:
                    continue  # replaced by whatever this run found at that path
                if source in self.sync_sources:
                    self.report.removed.append(name)
                    tombstoned = session.get(File, file_id)
                    if tombstoned is not None:
                        tombstoned.deleted_at = utcnow()
                    continue
                keep.add(doc_id)
            target = keep | self.current_docs
            if target != set(self.previous):
                version = create_version(session, self.tenant_id, sorted(target), self.tracker.job_id)
                self.report.version_id, self.report.version_number = version.id, version.number


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for piece in iter(lambda: stream.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def ingest_paths(home: Home, tenant_id: str, paths: Iterable[Path], on_progress: ProgressCallback | None = None,
                 workers: int | None = None, *, source: str | None = None,
                 tracker: JobTracker | None = None) -> IngestReport:
    """Ingest files and folders into the tenant's data space; returns what happened to each file.

    Pass a `tracker` made beforehand when the caller must know the job id before work starts
    (the API answers an upload at once and runs the job in the background).
    """
    started = time.monotonic()
    files = collect_files(paths, source)
    for job_id in mark_interrupted(home, tenant_id, "ingest"):
        if tracker is None or job_id != tracker.job_id:
            JobTracker(home, job_id).event("marked interrupted by a later ingest", level="warning")
    if tracker is None:
        tracker = JobTracker.create(home, "ingest", tenant_id, {"files": len(files)}, on_progress)
    tracker.start(total=len(files))
    try:
        run = _Run(home, tenant_id, tracker)
        run.total = len(files)
        with WorkerPool(workers or home.settings.ingest_workers, run.limits.parse_timeout_s,
                        run.limits.parse_memory_mb) as pool:
            for item in files:
                tracker.progress(run.done, run.total, "store", item.name)
                run.admit(item)
            # parse in parallel, record in queue order: "which copy is the original" must not depend on timing
            waiting: dict[str, TaskResult] = {}
            for result in pool.run(run.tasks):
                waiting[result.task_id] = result
                while run.recorded < len(run.queue_order) and run.queue_order[run.recorded] in waiting:
                    run.finish(waiting.pop(run.queue_order[run.recorded]))
                    run.recorded += 1
        tracker.progress(run.total, run.total, "version", None)
        run.compose_version()
        run.report.seconds = time.monotonic() - started
        tracker.succeed(run.report.as_dict())
    except BaseException as exc:
        tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    return run.report
