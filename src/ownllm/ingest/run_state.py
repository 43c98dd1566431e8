"""One ingest run's state, shared by admission, parsing and document writing: the tenant's settings,
what was seen, which documents the next corpus version should hold, and progress."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ownllm.corpus.compose import VersionChange
from ownllm.corpus.versions import latest_document_ids
from ownllm.ingest.cleaning.dedupe import NearDuplicateIndex, from_bytes
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.report import FileOutcome, IngestReport
from ownllm.ingest.sources import SourceFile
from ownllm.jobs.tracker import FileEvent, JobTracker
from ownllm.store.catalog import Document, File
from ownllm.store.home import Home
from ownllm.store.statuses import REJECTED_FILE_STATUSES
from ownllm.store.tenant_settings import TenantSettings


class KnownDocuments:
    """The latest version's documents, for deduplication: exact text hashes, MinHash, and paths."""

    def __init__(self, home: Home, tenant_id: str, threshold: float) -> None:
        self.near = NearDuplicateIndex(threshold)
        self.text_hashes: dict[str, str] = {}
        self.doc_paths: dict[str, tuple[str, str]] = {}
        self.path_docs: dict[tuple[str, str], set[str]] = {}  # the reverse of doc_paths
        with home.catalog.session() as session:
            previous = latest_document_ids(session, tenant_id)
            rows = session.execute(
                select(Document.id, Document.text_sha256, Document.minhash, File.source, File.original_name)
                .join(File, File.id == Document.file_id).where(Document.id.in_(previous))
            ).all()
        for doc_id, text_sha, minhash, source, name in rows:
            self.remember(doc_id, text_sha, minhash, (source, name))

    def remember(self, doc_id: str, text_sha: str, minhash: bytes | None, path: tuple[str, str]) -> None:
        self.text_hashes.setdefault(text_sha, doc_id)
        self.doc_paths[doc_id] = path
        self.path_docs.setdefault(path, set()).add(doc_id)
        if minhash is not None:
            self.near.add(doc_id, from_bytes(minhash))


class IngestRun:
    def __init__(self, home: Home, tenant_id: str, tracker: JobTracker, settings: TenantSettings,
                 count_tokens: Callable[[str], int]) -> None:
        self.home, self.tenant_id, self.tracker = home, tenant_id, tracker
        self.settings = settings
        self.config = settings.cleaning
        self.limits = settings.limits
        self.options = ParseOptions(self.limits, home.settings.model_cache, settings.speech_language,
                                    settings.chinese_script, settings.transcribe_unclear_audio)
        self.secret = home.secret()
        self.count_tokens = count_tokens
        self.report = IngestReport(tracker.job_id, None, None)
        self.change = VersionChange()
        self.known = KnownDocuments(home, tenant_id, self.config.near_dedupe_threshold)
        self.tasks: deque[tuple[str, Any, tuple[Any, ...]]] = deque()
        self.pending: dict[str, tuple[SourceFile, str, str]] = {}  # file id -> (source file, type, note)
        self.queued_shas: dict[str, str] = {}  # sha256 -> file id queued for parsing in this run
        self.queue_order: list[str] = []  # file ids in the order their parse tasks were queued
        self.done = 0
        self.total = 0
        self.recorded = 0

    def outcome(self, outcome: FileOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.done += 1
        self.tracker.progress(self.done, self.total, "parse", outcome.name)
        if outcome.status in REJECTED_FILE_STATUSES:
            self.tracker.record(FileEvent(outcome.name, outcome.status, outcome.reason or ""), level="warning")

    def set_file_status(self, file_id: str, status: str, error: str | None = None,
                        flags: list[str] | None = None, duplicate_of: str | None = None) -> None:
        with self.home.catalog.session() as session:
            file = session.get(File, file_id)
            assert file is not None
            file.status, file.error, file.deleted_at = status, error, None
            file.flags = sorted(set(file.flags or []) | set(flags or []))
            file.duplicate_of = duplicate_of

    def reject(self, file_id: str, item: SourceFile, kind: str, status: str, reason: str,
               flags: list[str] | None = None) -> None:
        self.set_file_status(file_id, status, f"{item.name}: {reason}", flags)
        self.outcome(FileOutcome(item.name, status, kind, reason, flags=flags or []))
