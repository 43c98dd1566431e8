"""Read-only views of one tenant's things for people browsing them (the console): a document with its
chunks, a chunk with its document and file, a dataset's records by page, a tuning run's loss curve and
lineage, the tenant's models. Every lookup is scoped to the tenant: another tenant's id is `NotFound`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ownllm.errors import NotFound
from ownllm.jobs.tracker import get_job, job_events
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.store.catalog import Chunk, Dataset, Document, File, Job, TunedModel
from ownllm.store.home import Home
from ownllm.store.statuses import EventType, JobKind
from ownllm.synth.dataset import KINDS

PAGE = 25


@dataclass
class DocumentView:
    document: Document
    file: File
    chunks: list[Chunk]


@dataclass
class ChunkView:
    chunk: Chunk
    document: Document
    file: File
    text: str  # the document's full text, for showing the chunk in its place


def document_view(home: Home, tenant_id: str, document_id: str) -> DocumentView:
    with home.catalog.session() as session:
        row = session.execute(select(Document, File).join(File, File.id == Document.file_id)
                              .where(Document.id == document_id, Document.tenant_id == tenant_id,
                                     File.deleted_at.is_(None))).first()
        if row is None:
            raise NotFound(f"document {document_id!r} does not exist", param="document_id")
        chunks = list(session.scalars(select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)))
        return DocumentView(row[0], row[1], chunks)


def chunk_row(home: Home, tenant_id: str, chunk_id: str) -> tuple[Chunk, Document, File]:
    """A chunk of one of the tenant's live files, with its document and file (no text read)."""
    with home.catalog.session() as session:
        row = session.execute(select(Chunk, Document, File).join(Document, Document.id == Chunk.document_id)
                              .join(File, File.id == Document.file_id)
                              .where(Chunk.id == chunk_id, Document.tenant_id == tenant_id,
                                     File.deleted_at.is_(None))).first()
        if row is None:
            raise NotFound(f"chunk {chunk_id!r} does not exist", param="chunk_id")
        return row[0], row[1], row[2]


def chunk_view(home: Home, tenant_id: str, chunk_id: str) -> ChunkView:
    chunk, document, file = chunk_row(home, tenant_id, chunk_id)
    text = home.blobs.read_bytes(document.text_sha256).decode("utf-8") if home.blobs.exists(document.text_sha256) \
        else chunk.text
    return ChunkView(chunk, document, file, text)


@dataclass
class FileRow:
    id: str
    name: str
    detected_type: str
    size: int
    status: str
    error: str | None
    flags: list[str]
    pii_redacted: int
    created_at: datetime


def file_rows(home: Home, tenant_id: str, *, since: datetime | None = None, limit: int = 100) -> list[FileRow]:
    """The data space's files (newest first), each with its outcome, flags and how many PII values were
    redacted from its text; `since` narrows it to what a job touched."""
    with home.catalog.session() as session:
        query = select(File).where(File.tenant_id == tenant_id, File.deleted_at.is_(None),
                                   File.purpose == "knowledge")
        if since is not None:
            query = query.where(File.updated_at >= since)
        files = list(session.scalars(query.order_by(File.updated_at.desc(), File.original_name).limit(limit)))
        cleaning = dict(session.execute(select(Document.file_id, Document.cleaning)
                                        .where(Document.file_id.in_([f.id for f in files]))).all())
    return [FileRow(f.id, f.original_name, f.detected_type, f.size, f.status, f.error, list(f.flags or []),
                    sum(int(n) for n in ((cleaning.get(f.id) or {}).get("pii") or {}).values()
                        if isinstance(n, int | float)), f.created_at)
            for f in files]


def file_count(home: Home, tenant_id: str) -> int:
    with home.catalog.session() as session:
        return session.scalar(select(func.count(File.id)).where(
            File.tenant_id == tenant_id, File.deleted_at.is_(None), File.purpose == "knowledge")) or 0


@dataclass
class RecordsPage:
    dataset: Dataset
    kind: str
    records: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def dataset_page(home: Home, tenant_id: str, dataset_id: str, kind: str = "sft", page: int = 1) -> RecordsPage:
    from ownllm.synth.dataset import get_dataset

    dataset = get_dataset(home, tenant_id, dataset_id)
    kind = kind if kind in KINDS else "sft"
    path = Path(dataset.path) / f"{kind}.jsonl"
    records: list[dict[str, Any]] = []
    total = 0
    page = max(1, page)
    if path.exists():
        with path.open(encoding="utf-8") as lines:
            for total, line in enumerate((line for line in lines if line.strip()), 1):
                if (page - 1) * PAGE < total <= page * PAGE:
                    records.append(json.loads(line))
    return RecordsPage(dataset, kind, records, page, max(1, -(-total // PAGE)), total)


@dataclass
class TuningView:
    job: Job
    losses: list[tuple[int, float]]
    checkpoints: list[dict[str, Any]]
    model: TunedModel | None


def tuning_view(home: Home, tenant_id: str, job_id: str) -> TuningView:
    job = get_job(home, job_id, tenant_id, JobKind.FINE_TUNE)
    losses, checkpoints = [], []
    for event in job_events(home, job_id):
        if event.type == EventType.STEP and event.data.get("loss") is not None:
            losses.append((int(event.data.get("step", len(losses) + 1)), float(event.data["loss"])))
        elif event.type == EventType.CHECKPOINT:
            checkpoints.append({"step": event.data.get("step"), "at": event.created_at})
    with home.catalog.session() as session:
        model = session.scalar(select(TunedModel).where(TunedModel.job_id == job_id, TunedModel.tenant_id == tenant_id))
    return TuningView(job, losses, checkpoints, model)


@dataclass
class ModelRow:
    id: str
    kind: str  # base | tuned
    status: str
    size_mb: float | None
    languages: str
    base: str | None = None
    exports: dict[str, str] | None = None
    job_id: str | None = None


def model_rows(home: Home, tenant_id: str) -> list[ModelRow]:
    """Installed base models (without joining a split model's parts: listing must stay fast) and the
    tenant's tuned models, servable or not, with their gate status and exports."""
    rows = [ModelRow(m.id, "base", "installed" if m.installed else "installable", round(m.size_bytes / 2**20, 1),
                     ", ".join(m.languages)) for m in SHIPPED_MODELS.values()]
    with home.catalog.session() as session:
        for tuned in session.scalars(select(TunedModel).where(TunedModel.tenant_id == tenant_id)
                                     .order_by(TunedModel.created_at.desc())):
            rows.append(ModelRow(tuned.id, "tuned", tuned.status, None, "", tuned.base_model,
                                 {k: Path(v).name for k, v in (tuned.exports or {}).items()}, tuned.job_id))
    return rows


def export_path(home: Home, tenant_id: str, model_id: str, kind: str) -> Path:
    """The file of one export of a tenant's tuned model (`model`, `adapter`, `model-q8_0`…)."""
    with home.catalog.session() as session:
        row = session.get(TunedModel, model_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"The model `{model_id}` does not exist or you do not have access to it.", param="model",
                           code="model_not_found")
        exported = (row.exports or {}).get(kind)
    if not exported or not Path(exported).is_file():
        raise NotFound(f"`{model_id}` has no {kind!r} export yet", param="kind")
    return Path(exported)


def report_folder(home: Home, job: Job) -> Path | None:
    """Where an eval job wrote its report (HTML, JSON, charts), once it has one."""
    relative = (job.result or {}).get("report")
    return home.absolute(relative).parent if relative else None


def eval_report(home: Home, tenant_id: str, eval_id: str) -> tuple[Job, dict[str, Any] | None, Path | None]:
    """An eval job, its report (the JSON the HTML report was written from) and the report's folder."""
    job = get_job(home, eval_id, tenant_id, JobKind.EVAL)
    folder = report_folder(home, job)
    if folder is None:
        return job, None, None
    data = folder / "report.json"
    return job, (json.loads(data.read_text(encoding="utf-8")) if data.exists() else None), folder
