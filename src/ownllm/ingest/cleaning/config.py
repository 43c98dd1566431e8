"""Per-tenant cleaning configuration, stored in the tenant's settings under "cleaning".

Unknown keys are errors (a typo must not silently disable redaction).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PiiKind = Literal["email", "cn_mobile", "phone", "cn_id", "bank_card", "ip"]


class PiiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # generic phone numbers are off by default: a company's own hotlines are facts, not personal data
    kinds: list[PiiKind] = Field(default_factory=lambda: ["email", "cn_mobile", "cn_id", "bank_card", "ip"])
    keep_role_emails: bool = True  # support@, info@, sales@… are business contacts, not persons


class CleaningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    normalize: bool = True
    boilerplate: bool = True
    quality: bool = True
    near_dedupe: bool = True
    near_dedupe_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
    min_document_chars: int = Field(default=8, ge=0)
    pii: PiiConfig = Field(default_factory=PiiConfig)


def cleaning_config(tenant_settings: dict[str, Any] | None) -> CleaningConfig:
    return CleaningConfig.model_validate((tenant_settings or {}).get("cleaning", {}))
