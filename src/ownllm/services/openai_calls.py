"""OpenAI requests to ownllm's stages and back: one implementation for the API routes and the batch
job, so a batched request gets exactly the response the same request gets over HTTP."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from ownllm.chat.answer import Answer, AnswerRequest, Knowledge, answer
from ownllm.chat.completion import prepare_completion
from ownllm.config import Settings
from ownllm.errors import InvalidInput
from ownllm.inference.engine import Completion, SamplingParams, TokenLogprob
from ownllm.openai_schema import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    CompletionRequest,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    Usage,
)
from ownllm.retrieval.embeddings import get_embedder
from ownllm.services.runtime import Runtime


def answer_request(body: ChatCompletionRequest) -> AnswerRequest:
    knowledge = Knowledge(body.knowledge.corpus, body.knowledge.top_k) if body.knowledge else None
    return AnswerRequest(model=body.model, messages=[m.plain() for m in body.messages], max_tokens=body.token_limit,
                         temperature=body.temperature, top_p=body.top_p, stop=body.stop_tuple, seed=body.seed,
                         knowledge=knowledge, response_format=body.response_format, tools=body.tools,
                         tool_choice=body.tool_choice, logprobs=body.logprobs,
                         top_logprobs=body.top_logprobs or 0)


def logprobs_object(items: list[TokenLogprob] | None) -> dict[str, Any] | None:
    """OpenAI's `logprobs.content`: each token with its logprob, bytes and the top alternatives."""
    if not items:
        return None
    return {"content": [{"token": item.token, "logprob": item.logprob, "bytes": list(item.token.encode()),
                         "top_logprobs": [{"token": token, "logprob": logprob, "bytes": list(token.encode())}
                                          for token, logprob in item.top]} for item in items]}


def chat_completion_object(model: str, reply: Answer) -> ChatCompletion:
    calls = [call.as_dict() for call in reply.tool_calls] if reply.tool_calls else None
    message = AssistantMessage(content=None if calls else reply.text, tool_calls=calls)
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=model,
        choices=[Choice(message=message, finish_reason=reply.finish_reason,
                        logprobs=logprobs_object(reply.logprobs))],
        usage=Usage(**reply.usage), citations=reply.citations)


def chat_completion(runtime: Runtime, tenant_id: str, body: ChatCompletionRequest) -> tuple[ChatCompletion, Answer]:
    if body.stream:
        raise InvalidInput("stream is not supported here", param="stream")
    reply = answer(runtime.home, runtime.pool, tenant_id, answer_request(body))
    return chat_completion_object(body.model, reply), reply


def completion_params(body: CompletionRequest) -> SamplingParams:
    return SamplingParams(max_tokens=body.max_tokens or 16, temperature=body.temperature, top_p=body.top_p,
                          stop=body.stop_tuple, seed=body.seed, logprobs=body.logprobs is not None,
                          top_logprobs=body.logprobs or 0)


def completion_logprobs(items: list[TokenLogprob] | None) -> dict[str, Any] | None:
    if not items:
        return None
    return {"tokens": [i.token for i in items], "token_logprobs": [i.logprob for i in items],
            "top_logprobs": [dict(i.top) for i in items], "text_offset": []}


def text_completion_object(model: str, result: Completion, completion_id: str | None = None,
                           created: int | None = None) -> dict[str, Any]:
    return {"id": completion_id or f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
            "created": created or int(time.time()), "model": model,
            "choices": [{"index": 0, "text": result.text, "finish_reason": result.finish_reason,
                         "logprobs": completion_logprobs(result.logprobs)}], "usage": result.usage}


def text_completion(runtime: Runtime, tenant_id: str, body: CompletionRequest) -> tuple[dict[str, Any], Completion]:
    params = completion_params(body)
    prepared = prepare_completion(runtime.home, runtime.pool, tenant_id, body.model, body.text, params)
    result = prepared.handle.generate(prepared.prompt, params)
    return text_completion_object(body.model, result), result


def check_embedding_inputs(texts: list[str], settings: Settings) -> None:
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise InvalidInput("input must be a non-empty string or list of non-empty strings", param="input")
    if len(texts) > settings.max_embedding_inputs:
        raise InvalidInput(f"at most {settings.max_embedding_inputs} inputs per request", param="input")
    longest = max(len(t) for t in texts)
    if longest > settings.max_embedding_input_chars:
        raise InvalidInput(f"an input has {longest} characters; the limit is {settings.max_embedding_input_chars} "
                           "(setting OWNLLM_MAX_EMBEDDING_INPUT_CHARS)", param="input",
                           code="string_above_max_length")


def embeddings(settings: Settings, body: EmbeddingRequest) -> EmbeddingList:
    texts = [body.input] if isinstance(body.input, str) else body.input
    check_embedding_inputs(texts, settings)
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
