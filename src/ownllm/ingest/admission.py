"""Admission: store one file's bytes, decide what it needs, and queue it for parsing if it does.

A file is kept as it was when its bytes are already ingested at the same path; refused when it
is empty, over the size cap or of a type no parser reads; marked a duplicate when the same bytes
exist elsewhere; otherwise queued for a sandboxed parser.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ownllm.ingest.detect import detect_type
from ownllm.ingest.parsers import REFUSALS, SUPPORTED_TYPES, parse_file
from ownllm.ingest.report import UNCHANGED, FileOutcome
from ownllm.ingest.run_state import IngestRun
from ownllm.ingest.sources import SourceFile
from ownllm.store.catalog import Document, File
from ownllm.store.statuses import KEPT_FILE_STATUSES, FileStatus


def admit(run: IngestRun, item: SourceFile, blob_sha: str | None = None, data_size: int | None = None) -> None:
    run.change.seen.add((item.source, item.name))
    if item.sync:
        run.change.synced_sources.add(item.source)
    if blob_sha is None:
        assert item.path is not None
        size = item.path.stat().st_size
        if size > run.limits.max_file_bytes:
            file_id = file_row(run, item, _sha256_of(item.path), size, "oversize")
            run.reject(file_id, item, "oversize", FileStatus.FAILED,
                       f"file is {size} bytes, over the {run.limits.max_file_bytes}-byte cap")
            return
        blob_sha, data_size = run.home.blobs.put_file(item.path)
    with run.home.catalog.session() as session:
        existing = session.scalar(select(File).where(
            File.tenant_id == run.tenant_id, File.source == item.source, File.original_name == item.name,
            File.sha256 == blob_sha))
        if existing is not None and existing.status in KEPT_FILE_STATUSES:
            _keep_unchanged(run, session, existing, item)
            return
    data = run.home.blobs.read_bytes(blob_sha)
    detection = detect_type(data, item.name)
    file_id = file_row(run, item, blob_sha, data_size or len(data), detection.type)
    flags = [detection.note] if detection.note else []
    if detection.type == "empty":
        run.reject(file_id, item, "empty", FileStatus.FAILED, "file is empty (0 bytes)")
        return
    if detection.type not in SUPPORTED_TYPES:
        reason = REFUSALS.get(detection.type, f"{detection.type} files are not supported")
        run.reject(file_id, item, detection.type, FileStatus.UNSUPPORTED, reason, flags)
        return
    queued_twin = run.queued_shas.get(blob_sha)
    if queued_twin is not None and queued_twin != file_id:
        run.set_file_status(file_id, FileStatus.DUPLICATE, None, flags, duplicate_of=queued_twin)
        run.outcome(FileOutcome(item.name, FileStatus.DUPLICATE, detection.type, "same bytes as another file"))
        return
    original = _same_bytes_elsewhere(run, blob_sha, file_id)
    if original is not None:
        other_file, doc_id = original
        run.set_file_status(file_id, FileStatus.DUPLICATE, None, flags, duplicate_of=other_file)
        run.change.documents.add(doc_id)
        run.outcome(FileOutcome(item.name, FileStatus.DUPLICATE, detection.type, "same bytes as another file"))
        return
    run.pending[file_id] = (item, detection.type, detection.note or "")
    run.queued_shas[blob_sha] = file_id
    run.queue_order.append(file_id)
    run.tasks.append((file_id, parse_file, (str(run.home.blobs.path_for(blob_sha)), detection.type, item.name,
                                            run.options)))


def file_row(run: IngestRun, item: SourceFile, sha: str, size: int, kind: str) -> str:
    """The catalog row for this path and these bytes (one per version of a path), made if new."""
    with run.home.catalog.session() as session:
        row = session.scalar(select(File).where(
            File.tenant_id == run.tenant_id, File.source == item.source, File.original_name == item.name,
            File.sha256 == sha))
        if row is None:
            row = File(tenant_id=run.tenant_id, source=item.source, original_name=item.name, sha256=sha, size=size,
                       detected_type=kind, parent_id=item.parent_id)
            session.add(row)
            session.flush()
        row.detected_type = kind
        return row.id


def _same_bytes_elsewhere(run: IngestRun, sha: str, file_id: str) -> tuple[str, str] | None:
    with run.home.catalog.session() as session:
        row = session.execute(
            select(File.id, Document.id).join(Document, Document.file_id == File.id)
            .where(File.tenant_id == run.tenant_id, File.sha256 == sha, File.id != file_id)
        ).first()
    return (row[0], row[1]) if row else None


def _keep_unchanged(run: IngestRun, session: Any, file: File, item: SourceFile) -> None:
    """An unchanged file keeps its documents, and so do the members of an unchanged archive."""
    family = [file]
    frontier = [file.id]
    while frontier:
        children = list(session.scalars(select(File).where(File.parent_id.in_(frontier))))
        family += children
        frontier = [child.id for child in children]
    for member in family:
        run.change.seen.add((member.source, member.original_name))
        target = member.duplicate_of or member.id
        doc_id = session.scalar(select(Document.id).where(Document.file_id == target)
                                .order_by(Document.created_at.desc()))
        if doc_id is not None and member.status in (FileStatus.PARSED, FileStatus.DUPLICATE):
            run.change.documents.add(doc_id)
        member.deleted_at = None
    run.outcome(FileOutcome(item.name, UNCHANGED, file.detected_type))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for piece in iter(lambda: stream.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()
