"""One model for a tenant's settings, parsed once where they are read or written.

Unknown keys and bad values are refused with the dotted key named (`limits.max_pages: Input
should be a valid integer`), because a silently ignored typo can switch off PII redaction or
leave a tenant without caps. Settings stored before a key existed keep parsing: every key has
a default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ownllm.errors import InvalidInput

MB = 1 << 20
PiiKind = Literal["email", "cn_mobile", "phone", "cn_id", "bank_card", "ip"]
ChineseScript = Literal["simplified", "traditional", "as-recognized"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PiiConfig(_Strict):
    enabled: bool = True
    # generic phone numbers are off by default: a company's own hotlines are facts, not personal data
    kinds: list[PiiKind] = Field(default_factory=lambda: ["email", "cn_mobile", "cn_id", "bank_card", "ip"])
    keep_role_emails: bool = True  # support@, info@, sales@… are business contacts, not persons


class CleaningConfig(_Strict):
    normalize: bool = True
    boilerplate: bool = True
    quality: bool = True
    near_dedupe: bool = True
    near_dedupe_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
    min_document_chars: int = Field(default=8, ge=0)
    pii: PiiConfig = Field(default_factory=PiiConfig)


class IngestLimits(_Strict):
    """Safety caps for hostile or broken input; each, when hit, becomes a clear per-file error."""

    max_file_bytes: int = Field(256 * MB, ge=1)
    max_pages: int = Field(2000, ge=1)
    # PDF's own limit for a page side is 14400 units (200 inches); larger pages are render bombs
    max_page_points: float = Field(14400.0, gt=0)
    max_render_pixels: int = Field(12_000_000, ge=1)
    max_image_pixels: int = Field(80_000_000, ge=1)
    max_archive_members: int = Field(5000, ge=1)
    max_archive_total_bytes: int = Field(1024 * MB, ge=1)
    max_archive_ratio: float = Field(200.0, gt=0)
    max_archive_depth: int = Field(3, ge=0)
    max_sheet_cells: int = Field(5_000_000, ge=1)
    max_media_seconds: float = Field(4 * 3600.0, gt=0)
    parse_timeout_s: float = Field(600.0, gt=0)
    parse_memory_mb: int = Field(6144, ge=64)


class RateLimits(_Strict):
    """The tenant's limits on the API; None falls back to the server's defaults (OWNLLM_DEFAULT_*)."""

    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)
    monthly_tokens: int | None = Field(None, ge=0)


class ModelChoice(_Strict):
    """Which model reads (answers with knowledge), teaches (synth) and is tuned; None: the defaults
    (the strongest installed model reads and teaches; SmolLM2 is tuned). Ids are checked where the
    models are known (`ownllm.models.roles`)."""

    reader: str | None = Field(None, min_length=1, max_length=200)
    teacher: str | None = Field(None, min_length=1, max_length=200)
    base: str | None = Field(None, min_length=1, max_length=200)


class TenantSettings(_Strict):
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    limits: IngestLimits = Field(default_factory=IngestLimits)
    speech_language: str | None = Field(None, min_length=2, max_length=8)  # None: detect per file
    chinese_script: ChineseScript = "simplified"  # Chinese transcripts are written in this script
    transcribe_unclear_audio: bool = False  # music and noise get no invented transcript unless this is set
    models: ModelChoice = Field(default_factory=ModelChoice)

    def stored(self) -> dict[str, Any]:
        """What goes into the catalog: only what differs from the defaults, so new defaults reach old tenants."""
        return self.model_dump(exclude_defaults=True)


def describe(error: ValidationError, prefix: str = "") -> str:
    """`limits.max_pages: Input should be a valid integer; cleaning.pii.kindz: unknown key`."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"{prefix}{key}: {message}")
    return "; ".join(problems)


def parse_tenant_settings(data: dict[str, Any] | None) -> TenantSettings:
    try:
        return TenantSettings.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        raise InvalidInput(f"invalid tenant settings: {describe(exc)}",
                           param=".".join(str(p) for p in first) or "settings") from exc
