"""Look up and create corpus versions, always scoped to one tenant.

A reference is `latest`, a version number (`3`, `v3`) or a version id (`cv_…`).
Another tenant's version is reported as not found: ids never leak across tenants.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ownllm.errors import NotFound
from ownllm.store.catalog import Chunk, CorpusVersion, CorpusVersionDocument, Document, File
from ownllm.store.home import Home


def resolve_version(session: Session, tenant_id: str, ref: str | int = "latest") -> CorpusVersion:
    query = select(CorpusVersion).where(CorpusVersion.tenant_id == tenant_id)
    text = str(ref).strip()
    if text in ("", "latest"):
        version = session.scalar(query.order_by(CorpusVersion.number.desc()).limit(1))
        if version is None:
            raise NotFound("this tenant has no corpus yet: ingest some files first", param="corpus",
                           code="corpus_not_found")
        return version
    number = text.lstrip("v")
    if number.isascii() and number.isdecimal() and len(number) <= 9:  # not '²', not past the column's range
        version = session.scalar(query.where(CorpusVersion.number == int(number)))
    else:
        version = session.scalar(query.where(CorpusVersion.id == text))
    if version is None:
        raise NotFound(f"corpus version {text!r} does not exist", param="corpus", code="corpus_not_found")
    return version


def get_version(home: Home, tenant_id: str, ref: str | int = "latest") -> CorpusVersion:
    with home.catalog.session() as session:
        return resolve_version(session, tenant_id, ref)


def version_document_ids(session: Session, version_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CorpusVersionDocument.document_id).where(CorpusVersionDocument.version_id == version_id)
        )
    )


def latest_version(session: Session, tenant_id: str) -> CorpusVersion | None:
    return session.scalar(select(CorpusVersion).where(CorpusVersion.tenant_id == tenant_id)
                          .order_by(CorpusVersion.number.desc()).limit(1))


def latest_document_ids(session: Session, tenant_id: str) -> list[str]:
    latest = latest_version(session, tenant_id)
    return version_document_ids(session, latest.id) if latest is not None else []


def create_version(session: Session, tenant_id: str, document_ids: list[str], job_id: str | None,
                   previous: CorpusVersion | None) -> CorpusVersion:
    """Version `previous.number + 1`; the unique (tenant, number) pair makes a concurrent twin fail."""
    version = CorpusVersion(
        tenant_id=tenant_id,
        number=(previous.number + 1) if previous else 1,
        parent_id=previous.id if previous else None,
        job_id=job_id,
    )
    session.add(version)
    session.flush()
    session.add_all(CorpusVersionDocument(version_id=version.id, document_id=d) for d in document_ids)
    session.flush()
    return version


@dataclass
class DocumentSummary:
    id: str
    file_name: str
    title: str
    lang: str
    detected_type: str
    n_chunks: int
    n_chars: int


@dataclass
class VersionSummary:
    id: str
    number: int
    created_at: str
    documents: list[DocumentSummary]

    @property
    def n_chunks(self) -> int:
        return sum(d.n_chunks for d in self.documents)


def summarize_version(home: Home, tenant_id: str, ref: str | int = "latest") -> VersionSummary:
    with home.catalog.session() as session:
        version = resolve_version(session, tenant_id, ref)
        chunk_counts = (
            select(Chunk.document_id, func.count(Chunk.id).label("n")).group_by(Chunk.document_id).subquery()
        )
        rows = session.execute(
            select(Document, File.original_name, File.detected_type, chunk_counts.c.n)
            .join(CorpusVersionDocument, CorpusVersionDocument.document_id == Document.id)
            .join(File, File.id == Document.file_id)
            .outerjoin(chunk_counts, chunk_counts.c.document_id == Document.id)
            .where(CorpusVersionDocument.version_id == version.id)
            .order_by(File.original_name)
        ).all()
        documents = [
            DocumentSummary(doc.id, name, doc.title, doc.lang, kind, n or 0, doc.n_chars)
            for doc, name, kind, n in rows
        ]
        return VersionSummary(version.id, version.number, version.created_at.isoformat(), documents)


def list_versions(home: Home, tenant_id: str) -> list[tuple[CorpusVersion, int]]:
    """Every version with its document count, newest first."""
    with home.catalog.session() as session:
        counts = (
            select(CorpusVersionDocument.version_id, func.count().label("n"))
            .group_by(CorpusVersionDocument.version_id)
            .subquery()
        )
        rows = session.execute(
            select(CorpusVersion, counts.c.n)
            .outerjoin(counts, counts.c.version_id == CorpusVersion.id)
            .where(CorpusVersion.tenant_id == tenant_id)
            .order_by(CorpusVersion.number.desc())
        ).all()
        return [(version, n or 0) for version, n in rows]


def list_files(home: Home, tenant_id: str, status: str | None = None) -> list[File]:
    """The tenant's files, e.g. `status='failed'` for what was rejected and why."""
    with home.catalog.session() as session:
        query = select(File).where(File.tenant_id == tenant_id)
        if status is not None:
            query = query.where(File.status == status)
        return list(session.scalars(query.order_by(File.original_name)))


@dataclass
class VersionDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int


def diff_versions(home: Home, tenant_id: str, old: str | int, new: str | int) -> VersionDiff:
    """What changed between two versions, by file path: added, removed, and re-parsed (changed)."""
    with home.catalog.session() as session:
        sides = []
        for ref in (old, new):
            version = resolve_version(session, tenant_id, ref)
            rows = session.execute(
                select(Document.id, File.source, File.original_name)
                .join(CorpusVersionDocument, CorpusVersionDocument.document_id == Document.id)
                .join(File, File.id == Document.file_id)
                .where(CorpusVersionDocument.version_id == version.id)
            ).all()
            sides.append({(source, name): doc_id for doc_id, source, name in rows})
    before, after = sides
    added = sorted(name for key, name in ((k, k[1]) for k in after) if key not in before)
    removed = sorted(name for key, name in ((k, k[1]) for k in before) if key not in after)
    common = [key for key in after if key in before]
    changed = sorted(key[1] for key in common if before[key] != after[key])
    return VersionDiff(added, removed, changed, len(common) - len(changed))
