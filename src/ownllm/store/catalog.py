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
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker


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


class File(Base):
    """A raw file in a tenant's data space; the bytes live in the blob store under `sha256`."""

    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256", name="uq_files_tenant_sha"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("file-"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str] = mapped_column(String(1024))
    detected_type: Mapped[str] = mapped_column(String(32))
    # received -> parsed | failed | unsupported
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("files.id"), default=None)
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
    heading: Mapped[str | None] = mapped_column(String(512), default=None)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    document: Mapped[Document] = relationship(viewonly=True)


class Job(Base):
    """Long work (ingest, index, tune, eval) with OpenAI-style statuses and live progress."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job_"))
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # queued -> running -> succeeded | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str | None] = mapped_column(String(64), default=None)
    current_item: Mapped[str | None] = mapped_column(String(1024), default=None)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobEvent(Base):
    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(8), default="info")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


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
