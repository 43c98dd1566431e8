"""Count tokens with the default base's tokenizer (SmolLM2's), so chunk budgets mean what a model sees.

One corpus serves every reader and base, so chunks are sized once, with the smallest model's vocabulary:
the larger Qwen vocabulary packs about as much English and more Chinese into a token, so a chunk
sized here fits a Qwen budget too.

Without the model package installed, a character-based estimate stands in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ownllm.inference.llamacpp import vocab_token_counter
from ownllm.models.hub import DEFAULT_MODEL_ID, SHIPPED_MODELS
from ownllm.text import approx_tokens

_counter: Callable[[str], int] | None = None
_lock = threading.Lock()


def base_model_token_counter() -> Callable[[str], int]:
    global _counter
    with _lock:
        if _counter is None:
            try:
                _counter = vocab_token_counter(SHIPPED_MODELS[DEFAULT_MODEL_ID].locate())
            except Exception:  # model package missing or unreadable: estimate instead
                _counter = approx_tokens
        return _counter
