"""Count tokens with the base model's own tokenizer, so chunk budgets mean what the model sees.

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
