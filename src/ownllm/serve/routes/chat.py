"""`POST /v1/chat/completions`: the one answer path (`ownllm.chat.answer`), plain or streamed.

The route is async and never holds a thread while a client reads: preparation (model load,
retrieval, tokenization) runs in the thread pool, generation on the engine's worker, and the
stream is read from the worker's buffer on the event loop. A client that disconnects cancels
its generation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ownllm.chat.answer import AnswerRequest, Knowledge, PreparedAnswer, prepare_answer
from ownllm.errors import OwnLLMError
from ownllm.inference.pool import TokenStream
from ownllm.serve.auth import Owner
from ownllm.serve.deps import RuntimeDep
from ownllm.serve.errors import error_body
from ownllm.serve.protocol import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Usage,
)

router = APIRouter(prefix="/v1")
log = logging.getLogger("ownllm.serve")


def to_answer_request(body: ChatCompletionRequest) -> AnswerRequest:
    knowledge = Knowledge(body.knowledge.corpus, body.knowledge.top_k) if body.knowledge else None
    return AnswerRequest(model=body.model, messages=[m.plain() for m in body.messages], max_tokens=body.token_limit,
                         temperature=body.temperature, top_p=body.top_p, stop=body.stop_tuple, seed=body.seed,
                         knowledge=knowledge)


def _sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


async def _events(body: ChatCompletionRequest, prepared: PreparedAnswer, stream: TokenStream) -> AsyncIterator[str]:
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        model = ChatCompletionChunk(id=completion_id, created=created, model=body.model,
                                    choices=[ChunkChoice(delta=delta, finish_reason=finish)], **extra)
        return _sse(model.model_dump(exclude_none=True, exclude={"choices"}) |
                    {"choices": [c.model_dump() for c in model.choices]})

    try:
        first: dict[str, Any] = {}
        if prepared.citations is not None:
            first["citations"] = prepared.citations
        yield chunk({"role": "assistant", "content": ""}, **first)
        finish, completion_tokens = "stop", 0
        try:
            async for delta in stream:
                if delta.text:
                    yield chunk({"content": delta.text})
                if delta.finish_reason:
                    finish, completion_tokens = delta.finish_reason, delta.completion_tokens
        except Exception as exc:  # after the stream started, an error is an event, then [DONE]
            if isinstance(exc, OwnLLMError):
                yield _sse(error_body(exc.message, exc.type, exc.param, exc.code))
            else:
                log.exception("generation failed mid-stream")
                yield _sse(error_body("The server had an error while generating.", "server_error", None,
                                      "internal_error"))
            yield _sse("[DONE]")
            return
        yield chunk({}, finish)
        if body.stream_options and body.stream_options.include_usage:
            usage = Usage(prompt_tokens=stream.prompt_tokens, completion_tokens=completion_tokens,
                          total_tokens=stream.prompt_tokens + completion_tokens)
            yield _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                        "model": body.model, "choices": [], "usage": usage.model_dump()})
        yield _sse("[DONE]")
    finally:
        stream.cancel()  # a client that went away stops the generation within a token


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, owner: Owner,
                           runtime: RuntimeDep) -> ChatCompletion | StreamingResponse:
    request = to_answer_request(body)
    prepared = await run_in_threadpool(prepare_answer, runtime.home, runtime.pool, owner.tenant_id, request)
    if body.stream:
        stream = prepared.stream(asyncio.get_running_loop())  # a full queue is a 503 now, before any 200
        return StreamingResponse(_events(body, prepared, stream), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    answer = await prepared.complete_async()
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=body.model,
        choices=[Choice(message=AssistantMessage(content=answer.text), finish_reason=answer.finish_reason)],
        usage=Usage(**answer.usage), citations=answer.citations)
