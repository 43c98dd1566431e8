"""Every status word the catalog stores, as StrEnums: a typo becomes an AttributeError, not a
job that never leaves `runing`. They compare equal to the plain strings already in old homes."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    VALIDATING_FILES = "validating_files"  # a tuning run checks its data first (OpenAI's lifecycle)
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_JOB_STATUSES


TERMINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE_JOB_STATUSES = frozenset({JobStatus.VALIDATING_FILES, JobStatus.QUEUED, JobStatus.RUNNING})


class JobKind(StrEnum):
    INGEST = "ingest"
    SYNTH = "synth"
    FINE_TUNE = "fine_tune"
    EVAL = "eval"
    BATCH = "batch"
    EXPORT = "export"  # a tuned model written out as one GGUF file


class FileStatus(StrEnum):
    RECEIVED = "received"
    PARSED = "parsed"
    EXPANDED = "expanded"  # an archive or e-mail whose members became files of their own
    DUPLICATE = "duplicate"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


KEPT_FILE_STATUSES = frozenset({FileStatus.PARSED, FileStatus.DUPLICATE, FileStatus.EXPANDED})
REJECTED_FILE_STATUSES = frozenset({FileStatus.FAILED, FileStatus.UNSUPPORTED})


class EventType(StrEnum):
    """What a job event is, so readers filter by type instead of matching message strings."""

    MESSAGE = "message"
    STATUS = "status"
    STEP = "step"  # one optimizer step: step, loss, lr, tokens_per_s
    CHECKPOINT = "checkpoint"  # step, path (relative to the home)
    FILE = "file"  # one file's outcome in an ingest job


class ModelStatus(StrEnum):
    TRAINED = "trained"
    PROMOTED = "promoted"
    REJECTED = "rejected"
