"""`POST /v1/chat/completions`: the one answer path (`ownllm.chat.answer`), plain or streamed.

The route is async and never holds a thread while a client reads: preparation (model load,
retrieval, tokenization) runs in the thread pool, generation on the engine's worker, and the
stream is read from the worker's buffer on the event loop. A client that disconnects cancels
its generation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ownllm.chat.answer import PreparedAnswer, prepare_answer
from ownllm.errors import OwnLLMError
from ownllm.inference.engine import Completion
from ownllm.inference.pool import TokenStream
from ownllm.serve.auth import Owner
from ownllm.serve.deps import RuntimeDep
from ownllm.serve.errors import error_body
from ownllm.serve.metering import spent
from ownllm.serve.protocol import ChatCompletion, ChatCompletionRequest, Usage
from ownllm.serve.sse import KEEPALIVE, sse
from ownllm.services.openai_calls import answer_request, chat_completion_object, logprobs_object

router = APIRouter(prefix="/v1")
log = logging.getLogger("ownllm.serve")


class _Chunks:
    """`chat.completion.chunk` events, built as plain dicts (one per token: the hot path of a stream).
    Their shape is `ChatCompletionChunk`'s; tests parse them with the openai client."""

    def __init__(self, body: ChatCompletionRequest) -> None:
        self.body = body
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def __call__(self, delta: dict[str, Any], finish: str | None = None, logprobs: dict | None = None,
                 **extra: Any) -> str:
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                     "model": self.body.model, **extra,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}]})

    def usage(self, usage: Usage) -> str:
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                     "model": self.body.model, "choices": [], "usage": usage.model_dump()})


async def _events(request: Request, body: ChatCompletionRequest, prepared: PreparedAnswer,
                  stream: TokenStream, keepalive_s: float) -> AsyncIterator[str]:
    chunk = _Chunks(body)
    structured = prepared.constraint is not None and prepared.constraint.tools is not None
    completion_tokens = 0
    try:
        first: dict[str, Any] = {}
        if prepared.citations is not None:
            first["citations"] = prepared.citations
        yield chunk({"role": "assistant", "content": ""}, **first)
        finish, text = "stop", []
        last_sent = time.monotonic()
        try:
            async for delta in stream.deltas(idle_after=keepalive_s or None):
                if delta is None:
                    yield KEEPALIVE
                    last_sent = time.monotonic()
                    continue
                text.append(delta.text)
                if (delta.text or delta.logprobs) and not structured:  # a tool call is sent whole, at the end
                    yield chunk({"content": delta.text}, logprobs=logprobs_object(delta.logprobs))
                    last_sent = time.monotonic()
                elif keepalive_s and time.monotonic() - last_sent >= keepalive_s:  # a tool call still being written
                    yield KEEPALIVE
                    last_sent = time.monotonic()
                if delta.finish_reason:
                    finish, completion_tokens = delta.finish_reason, delta.completion_tokens
        except Exception as exc:  # after the stream started, an error is an event, then [DONE]
            if isinstance(exc, OwnLLMError):
                yield sse(error_body(exc.message, exc.type, exc.param, exc.code))
            else:
                log.exception("generation failed mid-stream")
                yield sse(error_body("The server had an error while generating.", "server_error", None,
                                      "internal_error"))
            yield sse("[DONE]")
            return
        if structured:
            answer = prepared.finish(Completion("".join(text), finish, stream.prompt_tokens, completion_tokens))
            if answer.tool_calls:
                calls = [{"index": i, **call.as_dict()} for i, call in enumerate(answer.tool_calls)]
                yield chunk({"tool_calls": calls})
            elif answer.text:
                yield chunk({"content": answer.text})
            finish = answer.finish_reason
        yield chunk({}, finish)
        usage = Usage(prompt_tokens=stream.prompt_tokens, completion_tokens=completion_tokens,
                      total_tokens=stream.prompt_tokens + completion_tokens)
        if body.stream_options and body.stream_options.include_usage:
            yield chunk.usage(usage)
        yield sse("[DONE]")
    finally:
        stream.cancel()  # a client that went away stops the generation within a token
        spent(request, body.model, stream.prompt_tokens, completion_tokens, stream.first_token_at,
              stream.cpu_seconds)


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request, owner: Owner,
                           runtime: RuntimeDep) -> ChatCompletion | StreamingResponse:
    prepared = await run_in_threadpool(prepare_answer, runtime.home, runtime.pool, owner.tenant_id,
                                       answer_request(body))
    if body.stream:
        stream = prepared.stream(asyncio.get_running_loop())  # a full queue is a 503 now, before any 200
        keepalive_s = runtime.home.settings.stream_keepalive_s
        return StreamingResponse(_events(request, body, prepared, stream, keepalive_s),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    answer = await prepared.complete_async()
    spent(request, body.model, answer.prompt_tokens, answer.completion_tokens, answer.first_token_at,
          answer.cpu_seconds)
    return chat_completion_object(body.model, answer)
