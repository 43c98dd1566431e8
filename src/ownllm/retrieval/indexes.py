"""Build every index of a corpus version (BM25 and dense) as one step after ingest."""

from __future__ import annotations

from collections.abc import Callable

from ownllm.retrieval.dense import build_dense, dense_dir
from ownllm.retrieval.lexical import ensure_index
from ownllm.store.catalog import CorpusVersion
from ownllm.store.home import Home


def ensure_indexes(home: Home, version: CorpusVersion,
                   on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Returns chunk count and how many chunks needed new embeddings (0 when all were reused);
    `on_progress(done, total)` follows the embedding."""
    chunks = ensure_index(home, version)
    embedded = 0
    if not (dense_dir(home, version.tenant_id, version.id) / "meta.json").exists():
        _, embedded = build_dense(home, version, on_progress=on_progress)
    return {"chunks": chunks, "embedded": embedded}
