"""`GET /v1/models[/{id}]`: shipped base models, the embedder, and the caller's own tuned models."""

from __future__ import annotations

import time

from fastapi import APIRouter

from ownllm.models.registry import list_models, resolve_model
from ownllm.retrieval.embeddings import embedding_models
from ownllm.serve.auth import Owner
from ownllm.serve.deps import HomeDep
from ownllm.serve.protocol import ModelCard, ModelList

router = APIRouter(prefix="/v1")
_STARTED = int(time.time())


@router.get("/models")
def get_models(owner: Owner, home: HomeDep) -> ModelList:
    cards = [ModelCard(id=m.id, created=_STARTED, owned_by=m.owned_by) for m in list_models(home, owner.tenant_id)]
    cards += [ModelCard(id=name, created=_STARTED, owned_by="ownllm") for name in embedding_models()]
    return ModelList(data=cards)


@router.get("/models/{model_id:path}")
def get_model(model_id: str, owner: Owner, home: HomeDep) -> ModelCard:
    entry = resolve_model(home, owner.tenant_id, model_id)
    return ModelCard(id=entry.id, created=_STARTED, owned_by=entry.owned_by)
