"""`POST /v1/embeddings` and ownllm's `POST /v1/search` and `GET /v1/corpus`."""

from __future__ import annotations

import base64

from fastapi import APIRouter

from ownllm.config import Settings
from ownllm.corpus.versions import list_versions
from ownllm.errors import InvalidInput
from ownllm.retrieval.embeddings import get_embedder
from ownllm.retrieval.hybrid import FusionConfig
from ownllm.retrieval.search import SearchFilters, search
from ownllm.serve.auth import Owner
from ownllm.serve.deps import HomeDep
from ownllm.serve.protocol import (
    CorpusVersionList,
    CorpusVersionObject,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    SearchList,
    SearchRequest,
    Usage,
)

router = APIRouter(prefix="/v1")


def _check_inputs(texts: list[str], settings: Settings) -> None:
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise InvalidInput("input must be a non-empty string or list of non-empty strings", param="input")
    if len(texts) > settings.max_embedding_inputs:
        raise InvalidInput(f"at most {settings.max_embedding_inputs} inputs per request", param="input")
    longest = max(len(t) for t in texts)
    if longest > settings.max_embedding_input_chars:
        raise InvalidInput(f"an input has {longest} characters; the limit is {settings.max_embedding_input_chars} "
                           "(setting OWNLLM_MAX_EMBEDDING_INPUT_CHARS)", param="input",
                           code="string_above_max_length")


@router.post("/embeddings")
def create_embeddings(body: EmbeddingRequest, owner: Owner, home: HomeDep) -> EmbeddingList:
    texts = [body.input] if isinstance(body.input, str) else body.input
    _check_inputs(texts, home.settings)
    embedder = get_embedder(body.model)
    is_query = body.input_type == "query"
    vectors = embedder.embed_queries(texts) if is_query else embedder.embed_passages(texts)
    data = []
    for index, vector in enumerate(vectors):
        value: list[float] | str = vector.tolist()
        if body.encoding_format == "base64":
            value = base64.b64encode(vector.astype("<f4").tobytes()).decode()
        data.append(Embedding(index=index, embedding=value))
    tokens = sum(embedder.count_tokens(t, is_query) for t in texts)
    return EmbeddingList(data=data, model=embedder.name, usage=Usage(prompt_tokens=tokens, total_tokens=tokens))


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
