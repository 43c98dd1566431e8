"""Compose the next corpus version from what one run changed, atomically against concurrent runs.

A run records a *change* (paths it saw, the documents it holds for them, folders it synced),
not a finished list: the new version is the **latest committed version at the moment of
writing** with that change applied. Writing uses compare-and-set on the unique (tenant, number)
pair: if another run committed version N+1 first, the insert fails and the change is applied
again on top of the new latest. Eight concurrent uploads therefore end in a version that holds
all eight, on SQLite and PostgreSQL alike, without a lock held across parsing.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from ownllm.corpus.versions import create_version, latest_version
from ownllm.store.catalog import CorpusVersion, CorpusVersionDocument, Document, File, utcnow
from ownllm.store.home import Home

ATTEMPTS = 20


@dataclass
class VersionChange:
    seen: set[tuple[str, str]] = field(default_factory=set)  # (source, path) this run found, whatever became of it
    documents: set[str] = field(default_factory=set)  # documents this run holds for what it saw
    synced_sources: set[str] = field(default_factory=set)  # folders read whole: their missing paths are deleted
    removed_paths: set[tuple[str, str]] = field(default_factory=set)  # paths deleted on purpose (file deletion)


@dataclass
class Composed:
    version: CorpusVersion | None  # None: the change left the latest version as it was
    removed: list[str]


def compose_version(home: Home, tenant_id: str, change: VersionChange, job_id: str | None) -> Composed:
    for attempt in range(ATTEMPTS):
        try:
            with home.catalog.session() as session:
                return _compose_once(session, tenant_id, change, job_id)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 + random.random() * 0.1 * (attempt + 1))  # another run wrote first: apply again
    raise AssertionError("unreachable")


def _compose_once(session, tenant_id: str, change: VersionChange, job_id: str | None) -> Composed:  # type: ignore[no-untyped-def]
    base = latest_version(session, tenant_id)
    base_docs: set[str] = set()
    rows = []
    if base is not None:
        rows = session.execute(
            select(Document.id, File.id, File.source, File.original_name)
            .join(CorpusVersionDocument, CorpusVersionDocument.document_id == Document.id)
            .join(File, File.id == Document.file_id)
            .where(CorpusVersionDocument.version_id == base.id)).all()
        base_docs = {row[0] for row in rows}
    keep: set[str] = set()
    removed: list[str] = []
    for doc_id, file_id, source, name in rows:
        path = (source, name)
        if path in change.seen:
            continue  # replaced by whatever this run found at that path
        if source in change.synced_sources or path in change.removed_paths:
            removed.append(name)
            tombstoned = session.get(File, file_id)
            if tombstoned is not None and tombstoned.deleted_at is None:
                tombstoned.deleted_at = utcnow()
            continue
        keep.add(doc_id)
    target = keep | change.documents
    if target == base_docs:
        return Composed(None, removed)
    version = create_version(session, tenant_id, sorted(target), job_id, base)
    return Composed(version, sorted(removed))
