"""Files in: ingest folders (the CLI) or uploads (the API) and build the new version's indexes, as
one job with one implementation; delete a file and say what was derived from it."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select

from ownllm.corpus.compose import VersionChange, compose_version
from ownllm.corpus.versions import get_version
from ownllm.errors import InvalidInput, NotFound
from ownllm.ingest.pipeline import ingest_files
from ownllm.ingest.report import IngestReport
from ownllm.ingest.sources import SourceFile, collect_files
from ownllm.jobs.runner import run_inline
from ownllm.jobs.tracker import JobTracker, ProgressCallback
from ownllm.retrieval.indexes import ensure_indexes
from ownllm.services.previews import forget_previews
from ownllm.services.runtime import Runtime
from ownllm.store.catalog import (
    Chunk,
    CorpusVersion,
    CorpusVersionDocument,
    Dataset,
    Document,
    File,
    TunedModel,
    utcnow,
)
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind

UPLOAD_SOURCE = "upload"
INGEST_JOB = "ownllm.services.ingestion:ingest_uploads_job"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_filename(name: str | None) -> str:
    """A name for an uploaded file: its last path part, no control or path characters, never `.`/`..`."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).rsplit("/", 1)[-1]
    base = _UNSAFE.sub("", base).strip().strip(".").strip()
    return base[:200] or "upload"


def index_new_version(home: Home, tenant_id: str, report: IngestReport, tracker: JobTracker) -> dict[str, int] | None:
    """Ingest made a version: build its BM25 and dense indexes now, so the first search is fast. Embedding is
    the slow part at scale, so it reports chunks embedded out of those that need it."""
    if report.version_id is None:
        return None
    label = f"corpus v{report.version_number}"
    tracker.progress(0, 1, "index", f"{label}: BM25")

    def embedded(done: int, total: int) -> None:
        tracker.progress(done, total, "index", f"{label}: {done}/{total} chunks embedded")

    return ensure_indexes(home, get_version(home, tenant_id, report.version_id), on_progress=embedded)


def ingest_and_index(home: Home, tenant_id: str, files: list[SourceFile], tracker: JobTracker,
                     blobs: dict[str, tuple[str, int]] | None = None) -> IngestReport:
    """The one "ingest, then build indexes" job (CLI and API alike). The job ends when the indexes are built,
    and its time is the wall time of all of it. An index failure is recorded, not raised: searches build
    the index lazily."""
    started = time.monotonic()
    report = ingest_files(home, tenant_id, files, tracker, blobs=blobs, finish=False)
    result = report.as_dict()
    try:
        built = index_new_version(home, tenant_id, report, tracker)
        if built is not None:
            tracker.event("indexes built", **built)
            result["index"] = built
    except Exception as exc:
        tracker.event(f"index build after ingest failed: {type(exc).__name__}: {exc}", level="error")
        result["index_error"] = f"{type(exc).__name__}: {exc}"
    report.seconds = time.monotonic() - started
    result["seconds"] = round(report.seconds, 2)
    tracker.succeed(result)
    return report


def ingest_paths_and_index(home: Home, tenant_id: str, paths: list[Path],
                           on_progress: ProgressCallback | None = None) -> IngestReport:
    """The CLI's `ownllm ingest`: folders and files, in this process, with a progress bar."""
    files = collect_files(paths)
    return run_inline(home, JobKind.INGEST, tenant_id, lambda t: ingest_and_index(home, tenant_id, files, t),
                      params={"files": len(files)}, on_progress=on_progress)


def ingest_uploads_job(home: Home, tenant_id: str, tracker: JobTracker, uploads: list[dict[str, Any]]) -> None:
    """Job body for uploads: their bytes are already in the blob store, checked and counted."""
    files = [SourceFile(None, u["name"], UPLOAD_SOURCE, False) for u in uploads]
    ingest_and_index(home, tenant_id, files, tracker, blobs={u["name"]: (u["sha256"], u["size"]) for u in uploads})


@dataclass
class AcceptedUpload:
    file: File
    job_id: str


def accept_upload(runtime: Runtime, tenant_id: str, filename: str | None, stream: BinaryIO) -> AcceptedUpload:
    """Store an upload (refused over the size cap before anything is kept), record it, queue its ingest."""
    home = runtime.home
    name = safe_filename(filename)
    sha, size = home.blobs.put_stream(stream, home.settings.max_upload_bytes)
    if size == 0:
        raise InvalidInput(f"{name}: the file is empty", param="file")
    with home.catalog.session() as session:
        row = session.scalar(select(File).where(File.tenant_id == tenant_id, File.source == UPLOAD_SOURCE,
                                                File.original_name == name, File.sha256 == sha))
        if row is None:
            row = File(tenant_id=tenant_id, source=UPLOAD_SOURCE, original_name=name, sha256=sha, size=size,
                       detected_type="pending")
            session.add(row)
            session.flush()
    upload = {"name": name, "sha256": sha, "size": size}
    job_id = runtime.require_runner().submit(JobKind.INGEST, tenant_id, INGEST_JOB, {"uploads": [upload]},
                                             job_params={"files": 1, "upload": name},
                                             coalesce=f"uploads:{tenant_id}")
    return AcceptedUpload(row, job_id)


@dataclass
class DeletedFile:
    file_id: str
    name: str
    documents: list[str]
    chunks: int
    corpus_versions: list[int]  # versions that held it (kept: versions are immutable)
    new_version: int | None  # the version made without it
    datasets: list[str]  # synth datasets made from versions that held it
    tuned_models: list[str]  # models tuned on those datasets
    bytes_removed: bool  # the raw bytes were deleted (no other file had the same bytes)


def delete_file(home: Home, tenant_id: str, file_id: str) -> DeletedFile:
    """Take a file out of every later corpus version, delete its raw bytes if nothing else holds them,
    and list what was derived from it (older versions, datasets and tuned models stay, and are named)."""
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        if file is None or file.tenant_id != tenant_id or file.deleted_at is not None:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        family = [file]
        frontier = [file.id]
        while frontier:  # an archive's members go with it
            children = list(session.scalars(select(File).where(File.parent_id.in_(frontier))))
            family += children
            frontier = [child.id for child in children]
        ids = [f.id for f in family]
        documents = list(session.scalars(select(Document.id).where(Document.file_id.in_(ids))))
        chunks = session.scalar(select(func.count(Chunk.id)).where(Chunk.document_id.in_(documents))) or 0
        version_ids = set(session.scalars(select(CorpusVersionDocument.version_id)
                                          .where(CorpusVersionDocument.document_id.in_(documents))))
        versions = sorted(session.scalars(select(CorpusVersion.number).where(CorpusVersion.id.in_(version_ids))))
        datasets = list(session.scalars(select(Dataset.id).where(Dataset.corpus_version_id.in_(version_ids))))
        tuned = list(session.scalars(select(TunedModel.id).where(TunedModel.dataset_id.in_(datasets))))
        paths = {(f.source, f.original_name) for f in family}
        name, sha = file.original_name, file.sha256
        family_shas = {member.sha256 for member in family}
        for member in family:
            member.deleted_at = utcnow()
    composed = compose_version(home, tenant_id, VersionChange(removed_paths=paths), None)
    with home.catalog.session() as session:  # which of these bytes another live file still holds
        kept = set(session.scalars(select(File.sha256).where(File.sha256.in_(family_shas), File.deleted_at.is_(None))))
    removed = home.blobs.delete(sha) if sha not in kept else False
    for gone in family_shas - kept:
        forget_previews(home, gone)
    return DeletedFile(file_id, name, documents, chunks, versions,
                       composed.version.number if composed.version else None, datasets, tuned, removed)
