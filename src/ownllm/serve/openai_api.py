"""OpenAI-compatible routes (/v1/models, /v1/chat/completions) and ownllm's /v1/search.

Handlers are plain `def`s: FastAPI runs them in its thread pool, so a slow generation
never blocks the event loop, and the engine's own lock keeps llama.cpp single-threaded.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ownllm.corpus.versions import list_versions
from ownllm.errors import InvalidInput
from ownllm.models.registry import list_models, resolve_model
from ownllm.retrieval.embeddings import embedding_models, get_embedder
from ownllm.retrieval.hybrid import FusionConfig
from ownllm.retrieval.rag import NOT_FOUND_ANSWER, cited_chunks, retrieve_for_chat
from ownllm.retrieval.search import SearchFilters, search
from ownllm.serve.auth import Owner
from ownllm.serve.engines.llamacpp import LlamaCppEngine, get_engine
from ownllm.serve.schemas import ChatCompletionRequest, EmbeddingRequest, SearchRequest
from ownllm.store.home import Home

router = APIRouter(prefix="/v1")
_STARTED = int(time.time())


def _home(request: Request) -> Home:
    return request.app.state.home


def _model_card(model_id: str, owned_by: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _STARTED, "owned_by": owned_by}


@router.get("/models")
def get_models(request: Request, owner: Owner) -> dict[str, Any]:
    cards = [_model_card(m.id, m.owned_by) for m in list_models(owner.tenant_id, _home(request))]
    return {"object": "list", "data": cards + [_model_card(name, "ownllm") for name in embedding_models()]}


@router.post("/embeddings")
def create_embeddings(body: EmbeddingRequest, owner: Owner) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise InvalidInput("input must be a non-empty string or list of non-empty strings", param="input")
    if len(texts) > 2048:
        raise InvalidInput("at most 2048 inputs per request", param="input")
    embedder = get_embedder(body.model)
    vectors = embedder.embed_queries(texts) if body.input_type == "query" else embedder.embed_passages(texts)
    data = []
    for index, vector in enumerate(vectors):
        value: Any = vector.tolist()
        if body.encoding_format == "base64":
            value = base64.b64encode(vector.astype("<f4").tobytes()).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(len(t.split()) for t in texts)
    return {"object": "list", "data": data, "model": embedder.name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


@router.get("/models/{model_id}")
def get_model(model_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    entry = resolve_model(model_id, owner.tenant_id, _home(request))
    return _model_card(entry.id, entry.owned_by)


def _check_context(engine: LlamaCppEngine, messages: list[dict[str, Any]], max_tokens: int) -> int:
    """Refuse up front (400) what would overflow the context, before any stream has started."""
    prompt_tokens = sum(engine.count_tokens(m["content"]) + 5 for m in messages) + 3
    if prompt_tokens + max_tokens > engine.n_ctx:
        raise InvalidInput(
            f"This model's maximum context length is {engine.n_ctx} tokens; the messages use about "
            f"{prompt_tokens} and max_tokens asks for {max_tokens} more.",
            param="messages", code="context_length_exceeded",
        )
    return prompt_tokens


def _sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


def _stream(body: ChatCompletionRequest, engine: LlamaCppEngine, messages: list[dict[str, Any]],
            citations: list[dict] | None, prompt_tokens: int, fixed_answer: str | None) -> Iterator[str]:
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": body.model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    yield chunk({"role": "assistant", "content": ""}, **({"citations": citations} if citations is not None else {}))
    text_parts: list[str] = []
    if fixed_answer is not None:
        text_parts.append(fixed_answer)
        yield chunk({"content": fixed_answer})
        yield chunk({}, "stop")
    else:
        finish_reason = "stop"
        for delta, finish in engine.chat_stream(messages, max_tokens=body.token_limit,
                                                temperature=body.temperature, top_p=body.top_p,
                                                stop=body.stop_list, seed=body.seed):
            if delta:
                text_parts.append(delta)
                yield chunk({"content": delta})
            if finish:
                finish_reason = finish
        yield chunk({}, finish_reason)
    if body.stream_options and body.stream_options.include_usage:
        completion_tokens = engine.count_tokens("".join(text_parts))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        yield _sse({**base, "choices": [], "usage": usage})
    yield _sse("[DONE]")


@router.post("/chat/completions", response_model=None)
def chat_completions(body: ChatCompletionRequest, request: Request,
                     owner: Owner) -> dict[str, Any] | StreamingResponse:
    home = _home(request)
    entry = resolve_model(body.model, owner.tenant_id, home)
    engine = get_engine(entry.path, home.settings.n_ctx, home.settings.n_threads, entry.lora)
    messages = [message.plain() for message in body.messages]
    citations: list[dict] | None = None
    fixed_answer: str | None = None
    if body.knowledge is not None:
        messages, evidence = retrieve_for_chat(home, owner.tenant_id, messages, engine,
                                               corpus=body.knowledge.corpus, top_k=body.knowledge.top_k)
        citations = cited_chunks(evidence)
        if not evidence:
            fixed_answer = NOT_FOUND_ANSWER  # nothing to ground on: say so rather than invent
    prompt_tokens = _check_context(engine, messages, body.token_limit)
    if body.stream:
        return StreamingResponse(_stream(body, engine, messages, citations, prompt_tokens, fixed_answer),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    if fixed_answer is not None:
        text, finish, usage = fixed_answer, "stop", {"prompt_tokens": 0, "completion_tokens": 0}
    else:
        completion = engine.chat(messages, max_tokens=body.token_limit, temperature=body.temperature,
                                 top_p=body.top_p, stop=body.stop_list, seed=body.seed)
        text, finish = completion.text, completion.finish_reason
        usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}
    response: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                     "logprobs": None}],
        "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
    }
    if citations is not None:
        response["citations"] = citations
    return response


@router.post("/search")
def post_search(body: SearchRequest, request: Request, owner: Owner) -> dict[str, Any]:
    """ownllm extension: ranked passages from the caller's own corpus, with provenance."""
    filters = SearchFilters(tuple(body.filters.types), body.filters.file_glob, body.filters.lang) \
        if body.filters else None
    hits = search(_home(request), owner.tenant_id, body.query, corpus=body.corpus, top_k=body.top_k,
                  mode=body.mode, filters=filters, fusion=FusionConfig(body.fusion, alpha=body.alpha))
    return {"object": "list", "data": [{"object": "search.result", **hit.as_dict(),
                                        "citation": hit.citation()} for hit in hits]}


@router.get("/corpus")
def get_corpus_versions(request: Request, owner: Owner) -> dict[str, Any]:
    """ownllm extension: the caller's corpus versions, newest first."""
    versions = list_versions(_home(request), owner.tenant_id)
    return {"object": "list", "data": [
        {"id": v.id, "object": "corpus.version", "number": v.number, "documents": n,
         "created_at": int(v.created_at.timestamp())} for v, n in versions]}
