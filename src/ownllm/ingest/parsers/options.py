"""What a parser may need besides the bytes: safety limits and where model caches live."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ownllm.store.tenant_settings import IngestLimits


@dataclass(frozen=True)
class ParseOptions:
    limits: IngestLimits = field(default_factory=IngestLimits)
    model_cache: Path = Path("/tmp/ownllm-models")
    speech_language: str | None = None  # None: detect per file
    chinese_script: str = "simplified"  # Chinese transcripts: simplified | traditional | as-recognized
    transcribe_unclear_audio: bool = False  # transcribe audio in which VAD finds no speech (music, noise)
