"""`POST /v1/completions`: legacy text completion in OpenAI's shape (plain or streamed)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ownllm.chat.completion import prepare_completion
from ownllm.inference.pool import TokenStream
from ownllm.serve.auth import Owner
from ownllm.serve.deps import RuntimeDep
from ownllm.serve.errors import error_body
from ownllm.serve.metering import spent
from ownllm.serve.protocol import CompletionRequest, Usage
from ownllm.serve.sse import KEEPALIVE, sse
from ownllm.services.openai_calls import completion_logprobs, completion_params, text_completion_object

router = APIRouter(prefix="/v1")


async def _events(request: Request, body: CompletionRequest, stream: TokenStream, completion_id: str,
                  created: int, keepalive_s: float) -> AsyncIterator[str]:
    base = {"id": completion_id, "object": "text_completion", "created": created, "model": body.model}
    completion_tokens = 0
    try:
        try:
            async for delta in stream.deltas(idle_after=keepalive_s or None):
                if delta is None:
                    yield KEEPALIVE
                    continue
                choice = {"index": 0, "text": delta.text, "finish_reason": delta.finish_reason,
                          "logprobs": completion_logprobs(delta.logprobs)}
                yield sse({**base, "choices": [choice]})
                if delta.finish_reason:
                    completion_tokens = delta.completion_tokens
        except Exception as exc:
            yield sse(error_body(str(exc) if hasattr(exc, "message") else "generation failed", "server_error"))
        if body.stream_options and body.stream_options.include_usage:
            usage = Usage(prompt_tokens=stream.prompt_tokens, completion_tokens=completion_tokens,
                          total_tokens=stream.prompt_tokens + completion_tokens)
            yield sse({**base, "choices": [], "usage": usage.model_dump()})
        yield sse("[DONE]")
    finally:
        stream.cancel()
        spent(request, body.model, stream.prompt_tokens, completion_tokens, stream.first_token_at,
              stream.cpu_seconds)


@router.post("/completions", response_model=None)
async def completions(body: CompletionRequest, request: Request, owner: Owner,
                      runtime: RuntimeDep) -> dict[str, Any] | StreamingResponse:
    params = completion_params(body)
    prepared = await run_in_threadpool(prepare_completion, runtime.home, runtime.pool, owner.tenant_id, body.model,
                                       body.text, params)
    completion_id, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
    loop = asyncio.get_running_loop()
    stream = prepared.handle.stream(prepared.prompt, params, loop)
    if body.stream:
        return StreamingResponse(_events(request, body, stream, completion_id, created,
                                         runtime.home.settings.stream_keepalive_s),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    result = await stream.collect_async()
    spent(request, body.model, result.prompt_tokens, result.completion_tokens, result.first_token_at,
          result.cpu_seconds)
    return text_completion_object(body.model, result, completion_id, created)
