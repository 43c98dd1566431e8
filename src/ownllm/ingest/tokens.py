"""Count tokens with the base model's own tokenizer, so chunk budgets mean what the model sees.

The GGUF's vocabulary loads alone (no weights) in well under a second. Without the model
package installed, a character-based estimate stands in.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

from ownllm.ingest.lang import approx_tokens

_counter: Callable[[str], int] | None = None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native code writing straight to file descriptor 2."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
_lock = threading.Lock()


def base_model_token_counter() -> Callable[[str], int]:
    global _counter
    with _lock:
        if _counter is None:
            try:
                from llama_cpp import Llama

                from ownllm.models.hub import DEFAULT_MODEL_ID, SHIPPED_MODELS

                with _quiet_stderr():  # llama.cpp logs a context warning even for a vocabulary-only load
                    vocab = Llama(model_path=str(SHIPPED_MODELS[DEFAULT_MODEL_ID].locate()), vocab_only=True,
                                  verbose=False)

                def count(text: str) -> int:
                    return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

                _counter = count
            except Exception:  # model package missing or unreadable: estimate instead
                _counter = approx_tokens
        return _counter
