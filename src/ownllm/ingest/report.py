"""What happened to each file of an ingest run, as the CLI prints it and the job records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ownllm.store.statuses import REJECTED_FILE_STATUSES, FileStatus

UNCHANGED = "unchanged"  # an outcome, not a stored status: the file was already ingested as it is
OUTCOMES = (FileStatus.PARSED, UNCHANGED, FileStatus.DUPLICATE, FileStatus.EXPANDED, FileStatus.FAILED,
            FileStatus.UNSUPPORTED)


@dataclass
class FileOutcome:
    name: str
    status: str  # a FileStatus, or UNCHANGED
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
        return {
            "version_id": self.version_id, "version_number": self.version_number,
            "counts": {str(s): self.count(s) for s in OUTCOMES}, "removed": self.removed,
            "new_chunks": self.new_chunks, "seconds": round(self.seconds, 2),
            "problems": [{"file": o.name, "status": o.status, "reason": o.reason}
                         for o in self.outcomes if o.status in REJECTED_FILE_STATUSES],
        }
