"""Search a tenant's corpus version and return chunks with the provenance a citation needs.

The CLI's `ownllm search`, the API's `/v1/search` and RAG in chat completions all call
`search`, so they rank identically.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select

from ownllm.corpus.versions import resolve_version
from ownllm.errors import InvalidInput
from ownllm.retrieval.lexical import get_index
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home

MAX_TOP_K = 50


@dataclass
class SearchHit:
    rank: int
    score: float
    chunk_id: str
    text: str
    document_id: str
    document_title: str
    file_name: str
    unit: str
    unit_number: int | None
    unit_label: str | None
    heading: str | None
    char_start: int
    char_end: int

    @property
    def location(self) -> str:
        """Human-readable place: 'page 3', 'sheet 2 “Accessories”', 'at 00:01:05–00:01:40', or the heading."""
        if self.unit == "time" and self.unit_label:
            return f"at {self.unit_label}"
        if self.unit_number is not None:
            return f"{self.unit} {self.unit_number}" + (f" “{self.unit_label}”" if self.unit_label else "")
        return f"section “{self.heading}”" if self.heading else "document"

    def citation(self) -> dict:
        return {
            "document_id": self.document_id,
            "document": self.file_name,
            "title": self.document_title,
            "location": self.location,
            "page": self.unit_number if self.unit == "page" else None,
            "unit": self.unit,
            "unit_number": self.unit_number,
            "unit_label": self.unit_label,
            "span": [self.char_start, self.char_end],
            "chunk_id": self.chunk_id,
            "score": round(self.score, 4),
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "location": self.location}


def search(home: Home, tenant_id: str, query: str, *, corpus: str | int = "latest", top_k: int = 5) -> list[SearchHit]:
    if not query or not query.strip():
        raise InvalidInput("query is empty: say what to search for", param="query")
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}", param="top_k")
    with home.catalog.session() as session:
        version = resolve_version(session, tenant_id, corpus)
    ranked = get_index(home, version).search(query, top_k)
    if not ranked:
        return []
    with home.catalog.session() as session:
        rows = session.execute(
            select(Chunk, Document.title, File.original_name)
            .join(Document, Document.id == Chunk.document_id)
            .join(File, File.id == Document.file_id)
            .where(Chunk.id.in_([chunk_id for chunk_id, _ in ranked]), Document.tenant_id == tenant_id)
        ).all()
    by_id = {chunk.id: (chunk, title, name) for chunk, title, name in rows}
    hits = []
    for chunk_id, score in ranked:
        if chunk_id not in by_id:
            continue
        chunk, title, name = by_id[chunk_id]
        hits.append(SearchHit(
            rank=len(hits) + 1, score=score, chunk_id=chunk.id, text=chunk.text, document_id=chunk.document_id,
            document_title=title, file_name=name, unit=chunk.unit, unit_number=chunk.unit_number,
            unit_label=chunk.unit_label, heading=chunk.heading, char_start=chunk.char_start, char_end=chunk.char_end,
        ))
    return hits
