"""The models a tenant may use: every installed shipped base model, plus that tenant's tuned models.

A tuned model is served as its base GGUF with the run's GGUF LoRA adapter applied (or as a
merged GGUF export when one exists); tuned models are visible to their own tenant only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from ownllm.config import Settings
from ownllm.errors import NotFound
from ownllm.inference.engine import EngineSpec
from ownllm.models.hub import SHIPPED_MODELS

if TYPE_CHECKING:
    from ownllm.store.home import Home


@dataclass(frozen=True)
class ModelEntry:
    id: str
    owned_by: str
    path: Path
    kind: str  # base | tuned
    source: str
    lora: Path | None = None
    status: str = "ready"
    languages: tuple[str, ...] = ("en",)  # languages the model can be told to answer in
    reads_passages: bool = False  # gets whole passages and a decline rule with knowledge (else sentences)
    checks_answers: bool = False  # its grounded answers are checked against the passages (chat/answer_check.py)

    def spec(self, n_ctx: int = 4096, n_threads: int | None = None, *, logits_all: bool = False,
             slots: int = 1) -> EngineSpec:
        """How the pool loads this model: the GGUF, plus the run's GGUF LoRA for a tuned model."""
        return EngineSpec(self.path, self.lora, n_ctx, logits_all, n_threads, 1 if logits_all else slots)


def _tuned(home: Home, tenant_id: str) -> list[ModelEntry]:
    from ownllm.store.catalog import TunedModel

    entries = []
    with home.catalog.session() as session:
        rows = session.scalars(select(TunedModel).where(TunedModel.tenant_id == tenant_id)
                               .order_by(TunedModel.created_at))
        for row in rows:
            exports = row.exports or {}
            base = SHIPPED_MODELS.get(row.base_model)
            if exports.get("adapter") and base is not None and base.installed:
                path, lora = base.locate(), Path(exports["adapter"])
            elif exports.get("model"):
                path, lora = Path(exports["model"]), None
            else:
                continue  # trained but not exported to GGUF: nothing llama.cpp can load yet
            languages = base.languages if base is not None else ("en",)
            entries.append(ModelEntry(row.id, tenant_id, path, "tuned", f"job:{row.job_id}", lora, row.status,
                                      languages, base is not None and base.reads_passages,
                                      base is not None and base.checks_answers))
    return entries


def serving_spec(entry: ModelEntry, settings: Settings) -> EngineSpec:
    """How a model is loaded to serve requests (base models get more decoding slots than adapters)."""
    slots = settings.engine_adapter_slots if entry.lora is not None else settings.engine_slots
    return entry.spec(settings.n_ctx, settings.n_threads, slots=slots)


def list_models(home: Home | None = None, tenant_id: str | None = None) -> list[ModelEntry]:
    """Installed base models, plus the tenant's servable tuned models when a home and tenant are given."""
    entries = [
        ModelEntry(m.id, "ownllm", m.locate(), "base", m.source, languages=m.languages,
                   reads_passages=m.reads_passages, checks_answers=m.checks_answers)
        for m in SHIPPED_MODELS.values()
        if m.installed
    ]
    if home is not None and tenant_id is not None:
        entries += _tuned(home, tenant_id)
    return entries


def resolve_model(home: Home | None, tenant_id: str | None, model_id: str) -> ModelEntry:
    """A model the tenant may use, or `NotFound` (another tenant's tuned model is simply not there).

    Besides `ft:<base>:<tenant>:<suffix>:<run>`, a tuned model answers to `<base>:<suffix>` (the newest run
    with that suffix) and `<base>:<run>`.
    """
    entries = list_models(home, tenant_id)
    for entry in entries:
        if entry.id == model_id:
            return entry
    base, _, adapter = model_id.partition(":")
    if adapter and not model_id.startswith("ft:"):
        matches = [e for e in entries if e.kind == "tuned" and e.id.startswith(f"ft:{base}:")
                   and adapter in e.id.split(":")[3:]]
        if matches:
            return matches[-1]  # entries are oldest first
    raise NotFound(f"The model `{model_id}` does not exist or you do not have access to it.", param="model",
                   code="model_not_found")
