"""`POST /v1/embeddings` and ownllm's `POST /v1/search` and `GET /v1/corpus`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ownllm.corpus.versions import list_versions
from ownllm.retrieval.hybrid import FusionConfig
from ownllm.retrieval.search import SearchFilters, search
from ownllm.serve.auth import Owner
from ownllm.serve.deps import HomeDep
from ownllm.serve.metering import spent
from ownllm.serve.protocol import (
    CorpusVersionList,
    CorpusVersionObject,
    EmbeddingList,
    EmbeddingRequest,
    SearchList,
    SearchRequest,
)
from ownllm.services.openai_calls import embeddings

router = APIRouter(prefix="/v1")


@router.post("/embeddings")
def create_embeddings(body: EmbeddingRequest, request: Request, owner: Owner, home: HomeDep) -> EmbeddingList:
    result = embeddings(home.settings, body)
    spent(request, result.model, result.usage.prompt_tokens)
    return result


@router.post("/search")
def post_search(body: SearchRequest, owner: Owner, home: HomeDep) -> SearchList:
    """ownllm extension: ranked passages from the caller's own corpus, with provenance."""
    filters = SearchFilters(tuple(body.filters.types), body.filters.file_glob, body.filters.lang) \
        if body.filters else None
    hits = search(home, owner.tenant_id, body.query, corpus=body.corpus, top_k=body.top_k, mode=body.mode,
                  filters=filters, fusion=FusionConfig(body.fusion, alpha=body.alpha))
    return SearchList(data=[{"object": "search.result", **hit.as_dict(), "citation": hit.citation()}
                            for hit in hits])


@router.get("/corpus")
def get_corpus_versions(owner: Owner, home: HomeDep) -> CorpusVersionList:
    """ownllm extension: the caller's corpus versions, newest first."""
    return CorpusVersionList(data=[
        CorpusVersionObject(id=v.id, number=v.number, documents=n, created_at=int(v.created_at.timestamp()))
        for v, n in list_versions(home, owner.tenant_id)])
