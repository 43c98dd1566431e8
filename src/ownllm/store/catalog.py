"""The catalog: SQLAlchemy 2 models and the session factory.

Every stage of the pipeline talks to the next only through these rows and the blob
store, so a stage can move to another process or machine without code changes.
Rows that describe artefacts (documents, chunks, corpus versions) are never updated
after creation: a new ingest makes new rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from ownllm.store.statuses import EventType, FileStatus, JobStatus, ModelStatus


def new_id(prefix: str) -> str:
    """Readable, globally unique ids (`file-…`, `cv_…`) so a log line says what it points at."""
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tn_"))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # per-tenant configuration (cleaning steps, PII kinds, limits); validated by store/tenant_settings.py
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A tenant's API key. Only an argon2 hash of the secret is stored; `id` is the public half."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("key_"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), default="default")
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # what the key may do: inference, files, fine_tune, admin (see store/keys.py)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_SCOPES))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the tenant's limit
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)


DEFAULT_SCOPES = ("inference", "files", "fine_tune")


class File(Base):
    """One version of one path in a tenant's data space; the bytes live in the blob store.

    A path is identified by (`source`, `original_name`): the source is the folder that was
    ingested (or `upload`), the name its path inside it. Editing a file makes a new row
    for the same path with a new sha256; deleting it sets `deleted_at` (a tombstone).
    """

    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "original_name", "sha256", name="uq_files_path_sha"),
        Index("ix_files_tenant_sha", "tenant_id", "sha256"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("file-"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(1024), default="upload")
    # knowledge (ingested into the corpus), fine-tune or batch (JSONL inputs), batch_output (results)
    purpose: Mapped[str] = mapped_column(String(16), default="knowledge", server_default="knowledge")
    original_name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    detected_type: Mapped[str] = mapped_column(String(32))
    # received -> parsed | expanded | duplicate | failed | unsupported
    status: Mapped[str] = mapped_column(String(16), default=FileStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # warnings worth a human look: type mismatch, macros present, hidden text, OCR used…
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("files.id"), default=None)
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("files.id"), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CorpusVersion(Base):
    """An immutable set of documents; ingest makes version N+1 only when something changed."""

    __tablename__ = "corpus_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_corpus_tenant_number"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cv_"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("corpus_versions.id"), default=None)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    documents: Mapped[list[Document]] = relationship(secondary="corpus_version_documents", viewonly=True)


class Document(Base):
    """Parsed, cleaned text of one file; the full text is a blob, its pieces are `Chunk` rows."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("doc_"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("files.id"), index=True)
    title: Mapped[str] = mapped_column(String(512))
    lang: Mapped[str] = mapped_column(String(8))
    text_sha256: Mapped[str] = mapped_column(String(64))
    n_chars: Mapped[int] = mapped_column(Integer)
    n_units: Mapped[int] = mapped_column(Integer, default=1)  # pages, slides, sheets…
    parser: Mapped[str] = mapped_column(String(64))
    # what each cleaning step removed or changed, e.g. {"pii": {"email": 2}, "boilerplate": {"lines": 12}}
    cleaning: Mapped[dict[str, Any]] = mapped_column(default=dict)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    file: Mapped[File] = relationship()
    chunks: Mapped[list[Chunk]] = relationship(order_by="Chunk.ordinal", viewonly=True)


class CorpusVersionDocument(Base):
    __tablename__ = "corpus_version_documents"
    version_id: Mapped[str] = mapped_column(
        ForeignKey("corpus_versions.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True, index=True)


class Chunk(Base):
    """A retrievable piece of a document with its provenance (unit and character span)."""

    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_document_ordinal", "document_id", "ordinal"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("chk_"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    n_tokens: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))  # page | slide | sheet | section | timestamp
    unit_number: Mapped[int | None] = mapped_column(Integer, default=None)
    # a human label for the unit when a number is not enough: a sheet name, "00:01:05–00:01:32"
    unit_label: Mapped[str | None] = mapped_column(String(256), default=None)
    heading: Mapped[str | None] = mapped_column(String(512), default=None)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    document: Mapped[Document] = relationship(viewonly=True)


class Redaction(Base):
    """One redacted value: its kind and place, and a keyed hash so repeats can be matched.

    The raw value is never stored: the hash is an HMAC with a secret kept in the home,
    so it cannot be reversed by hashing guesses without that secret.
    """

    __tablename__ = "redactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    value_hmac: Mapped[str] = mapped_column(String(64))


class Job(Base):
    """Long work (ingest, index, tune, eval) with OpenAI-style statuses and live progress."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job_"))
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # queued -> running -> succeeded | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    stage: Mapped[str | None] = mapped_column(String(64), default=None)
    current_item: Mapped[str | None] = mapped_column(String(1024), default=None)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cpu_seconds: Mapped[float | None] = mapped_column(default=None)  # for the cost report


class JobEvent(Base):
    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(8), default="info")
    type: Mapped[str] = mapped_column(String(16), default=EventType.MESSAGE, server_default="message")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UsageRecord(Base):
    """One metered API request: who, which key and model, tokens, time to first token, latency, outcome."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_tenant_time", "tenant_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_id: Mapped[str | None] = mapped_column(String(40), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    endpoint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    ttft_ms: Mapped[float | None] = mapped_column(default=None)
    cpu_seconds: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateCounter(Base):
    """Requests and tokens of one rate-limit subject in one minute, shared by every server process."""

    __tablename__ = "rate_counters"
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)  # "key:…" or "tenant:…"
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix time // 60
    requests: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class AppSpecRow(Base):
    """A tenant's own app spec, one row per version (the built-in apps live in the package, not here)."""

    __tablename__ = "app_specs"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version", name="uq_app_spec_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(48))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppRunRow(Base):
    """One app run: what went in (hashes), which model and app version, what came out and how it checked."""

    __tablename__ = "app_runs"
    __table_args__ = (Index("ix_app_runs_tenant_time", "tenant_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("apprun_"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    app: Mapped[str] = mapped_column(String(48))
    app_version: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    input_hashes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)  # output, checks, citations, markdown, notes
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    first_token_ms: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dataset(Base):
    """A synthetic instruction set made from one corpus version; its records live in files under the home.

    `split` records which documents were held out, so evaluation can ask about exactly
    the documents tuning never saw, and `counts` what each generator and filter did.
    """

    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ds_"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    corpus_version_id: Mapped[str] = mapped_column(ForeignKey("corpus_versions.id"))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    path: Mapped[str] = mapped_column(String(1024))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    split: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TunedModel(Base):
    """A model a tuning run produced, with the lineage that traces it back to files and code."""

    __tablename__ = "tuned_models"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # ft:<base>:<tenant>:<suffix>:<run>
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    base_model: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    dataset_id: Mapped[str | None] = mapped_column(ForeignKey("datasets.id"), default=None)
    corpus_version_id: Mapped[str | None] = mapped_column(ForeignKey("corpus_versions.id"), default=None)
    adapter_path: Mapped[str] = mapped_column(String(1024))
    merged_path: Mapped[str | None] = mapped_column(String(1024), default=None)
    exports: Mapped[dict[str, Any]] = mapped_column(default=dict)  # format/quant -> path
    lineage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ModelStatus.TRAINED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the API read while an ingest job writes; foreign keys keep tenants' rows tied."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


class Catalog:
    """Owns the engine and hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
