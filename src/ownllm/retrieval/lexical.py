"""BM25 index of one corpus version, saved under the data space and loaded lazily.

The index is an artefact of its version: built once (by a job after ingest, or on the
first search), written to `indexes/<tenant>/<version>/bm25`, and never changed.
Loaded indexes are kept in a small per-process cache keyed by version id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bm25s
from sqlalchemy import select

from ownllm.corpus.versions import version_document_ids
from ownllm.retrieval.artifacts import LoadedCache
from ownllm.retrieval.tokenize import tokenize
from ownllm.store.catalog import Chunk, CorpusVersion, Document
from ownllm.store.home import Home
from ownllm.store.publish import publish_dir

_cache: LoadedCache[LexicalIndex] = LoadedCache()


@dataclass
class LexicalIndex:
    version_id: str
    chunk_ids: list[str]
    retriever: bm25s.BM25

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, score) best first; chunks sharing no term with the query are left out."""
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens or not self.chunk_ids:
            return []
        k = min(k, len(self.chunk_ids))
        ids, scores = self.retriever.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [
            (self.chunk_ids[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0
        ]


def index_dir(home: Home, tenant_id: str, version_id: str) -> Path:
    return home.settings.index_root / tenant_id / version_id / "bm25"


def indexed_text(chunk: Chunk, title: str) -> str:
    """What BM25 sees: the chunk plus its document title and heading, so a chunk is found by topic."""
    return "\n".join(part for part in (title, chunk.heading or "", chunk.text) if part)


def build_index(home: Home, version: CorpusVersion) -> LexicalIndex:
    with home.catalog.session() as session:
        doc_ids = version_document_ids(session, version.id)
        rows = session.execute(
            select(Chunk, Document.title)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.document_id.in_(doc_ids))
            .order_by(Chunk.document_id, Chunk.ordinal)
        ).all()
    chunk_ids = [chunk.id for chunk, _ in rows]
    corpus_tokens = [tokenize(indexed_text(chunk, title)) or [""] for chunk, title in rows]
    retriever = bm25s.BM25()
    if corpus_tokens:
        retriever.index(corpus_tokens, show_progress=False)
    def write(staging: Path) -> None:
        if corpus_tokens:
            retriever.save(str(staging))
        (staging / "chunk_ids.json").write_text(json.dumps(chunk_ids))

    publish_dir(index_dir(home, version.tenant_id, version.id), write)
    return LexicalIndex(version.id, chunk_ids, retriever)


def _load(path: Path, version_id: str) -> LexicalIndex:
    chunk_ids = json.loads((path / "chunk_ids.json").read_text())
    retriever = bm25s.BM25.load(str(path)) if chunk_ids else bm25s.BM25()
    return LexicalIndex(version_id, chunk_ids, retriever)


def get_index(home: Home, version: CorpusVersion) -> LexicalIndex:
    """The version's index: from the cache, else from disk, else built now."""
    def load() -> LexicalIndex:
        path = index_dir(home, version.tenant_id, version.id)
        return _load(path, version.id) if (path / "chunk_ids.json").exists() else build_index(home, version)

    return _cache.get(f"{home.root}:{version.id}", load)


def ensure_index(home: Home, version: CorpusVersion) -> int:
    """Build the version's index if it is missing; returns its number of chunks."""
    return len(get_index(home, version).chunk_ids)


__all__ = ["LexicalIndex", "build_index", "ensure_index", "get_index"]
