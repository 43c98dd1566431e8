"""The models a tenant may use: every installed shipped base model (tuned models join later)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ownllm.errors import NotFound
from ownllm.models.hub import SHIPPED_MODELS


@dataclass(frozen=True)
class ModelEntry:
    id: str
    owned_by: str
    path: Path
    kind: str  # base | tuned
    source: str


def list_models(tenant_id: str | None = None) -> list[ModelEntry]:
    return [
        ModelEntry(m.id, "ownllm", m.locate(), "base", f"pypi:{m.package}")
        for m in SHIPPED_MODELS.values()
        if m.installed
    ]


def resolve_model(model_id: str, tenant_id: str | None = None) -> ModelEntry:
    for entry in list_models(tenant_id):
        if entry.id == model_id:
            return entry
    raise NotFound(f"The model `{model_id}` does not exist or you do not have access to it.", param="model",
                   code="model_not_found")
