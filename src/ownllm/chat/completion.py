"""Plain text completion (`/v1/completions`): a raw prompt, no chat template, no knowledge."""

from __future__ import annotations

from dataclasses import dataclass

from ownllm.config import Settings
from ownllm.errors import InvalidInput
from ownllm.inference.engine import SamplingParams
from ownllm.inference.pool import EngineHandle, EnginePool
from ownllm.models.registry import ModelEntry, resolve_model, serving_spec
from ownllm.store.home import Home


@dataclass
class PreparedCompletion:
    model: ModelEntry
    handle: EngineHandle
    prompt: list[int]
    params: SamplingParams


def prepare_completion(home: Home, pool: EnginePool, tenant_id: str, model: str, prompt: str,
                       params: SamplingParams) -> PreparedCompletion:
    settings: Settings = home.settings
    if len(prompt) > settings.max_message_chars:
        raise InvalidInput(f"prompt has {len(prompt)} characters; the limit is {settings.max_message_chars}",
                           param="prompt", code="string_above_max_length")
    entry = resolve_model(home, tenant_id, model)
    handle = pool.handle(serving_spec(entry, settings))
    tokens = handle.text_prompt(prompt)
    if len(tokens) + params.max_tokens > handle.n_ctx:
        raise InvalidInput(f"This model's maximum context length is {handle.n_ctx} tokens; the prompt uses "
                           f"{len(tokens)} and max_tokens asks for {params.max_tokens} more.", param="prompt",
                           code="context_length_exceeded")
    return PreparedCompletion(entry, handle, tokens, params)
