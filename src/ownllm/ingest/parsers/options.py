"""What a parser may need besides the bytes: safety limits and where model caches live."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ownllm.ingest.limits import Limits


@dataclass(frozen=True)
class ParseOptions:
    limits: Limits = field(default_factory=Limits)
    model_cache: Path = Path("/tmp/ownllm-models")
    speech_language: str | None = None  # None: detect per file
    chinese_script: str = "simplified"  # Chinese transcripts: simplified | traditional | as-recognized
