"""Search a tenant's corpus version and return chunks with the provenance a citation needs.

Hybrid by default: BM25 and dense candidates fused (RRF or weighted), then metadata filters,
then overlapping chunks of one document merged into one hit (at the better one's rank) so results
are not near-repeats. A piece of a table that was split across chunks gets the table's header row
back (`table_header`), or its numbers have no column names. The CLI's `ownllm search`, the API's
`/v1/search` and RAG in chat completions all call `search`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from ownllm.corpus.versions import resolve_version
from ownllm.errors import InvalidInput
from ownllm.ingest.parsed import is_separator_row
from ownllm.retrieval.dense import get_dense
from ownllm.retrieval.embeddings import get_embedder
from ownllm.retrieval.hybrid import FusionConfig, fuse
from ownllm.retrieval.lexical import get_index
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home

MAX_TOP_K = 50
SearchMode = Literal["hybrid", "lexical", "dense"]


@dataclass(frozen=True)
class SearchFilters:
    types: tuple[str, ...] = ()  # detected file types, e.g. ("pdf", "docx")
    file_glob: str | None = None  # e.g. "policies/*"
    lang: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.types or self.file_glob or self.lang or self.created_after or self.created_before)


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
    lexical_score: float | None = None
    dense_score: float | None = None
    table_header: str | None = None  # header and separator rows of the table this piece continues

    @property
    def readable_text(self) -> str:
        """What a reader is shown: the chunk, after its table's header row when it continues a table."""
        return f"{self.table_header}\n{self.text}" if self.table_header else self.text

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
            "document_id": self.document_id, "document": self.file_name, "title": self.document_title,
            "location": self.location, "page": self.unit_number if self.unit == "page" else None,
            "unit": self.unit, "unit_number": self.unit_number, "unit_label": self.unit_label,
            "span": [self.char_start, self.char_end], "chunk_id": self.chunk_id, "score": round(self.score, 4),
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "location": self.location}


def _candidates(home: Home, version: object, query: str, mode: SearchMode, pool: int,
                fusion: FusionConfig) -> tuple[list[tuple[str, float]], dict[str, float], dict[str, float]]:
    lexical = get_index(home, version).search(query, pool) if mode in ("hybrid", "lexical") else []  # type: ignore[arg-type]
    dense: list[tuple[str, float]] = []
    if mode in ("hybrid", "dense"):
        vector = get_embedder().embed_queries([query])[0]
        dense = get_dense(home, version).search(vector, pool)  # type: ignore[arg-type]
    ranked = lexical if mode == "lexical" else dense if mode == "dense" else fuse(lexical, dense, fusion)
    return ranked, dict(lexical), dict(dense)


def search(home: Home, tenant_id: str, query: str, *, corpus: str | int = "latest", top_k: int = 5,
           mode: SearchMode = "hybrid", filters: SearchFilters | None = None,
           fusion: FusionConfig | None = None) -> list[SearchHit]:
    if not query or not query.strip():
        raise InvalidInput("query is empty: say what to search for", param="query")
    if len(query) > home.settings.max_query_chars:
        raise InvalidInput(f"query has {len(query)} characters; the limit is {home.settings.max_query_chars} "
                           "(setting OWNLLM_MAX_QUERY_CHARS)", param="query", code="string_above_max_length")
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}", param="top_k")
    if mode not in ("hybrid", "lexical", "dense"):
        raise InvalidInput(f"mode must be hybrid, lexical or dense, got {mode!r}", param="mode")
    filters = filters or SearchFilters()
    with home.catalog.session() as session:
        version = resolve_version(session, tenant_id, corpus)
    pool = 200 if filters.active else max(8 * top_k, 40)  # fusion needs depth: see bench/fusion_sweep.py
    ranked, lexical, dense = _candidates(home, version, query, mode, pool, fusion or FusionConfig())
    if not ranked:
        return []
    with home.catalog.session() as session:
        rows = session.execute(
            select(Chunk, Document.title, Document.lang, File.original_name, File.detected_type, File.created_at)
            .join(Document, Document.id == Chunk.document_id).join(File, File.id == Document.file_id)
            .where(Chunk.id.in_([chunk_id for chunk_id, _ in ranked]), Document.tenant_id == tenant_id)
        ).all()
    by_id = {row[0].id: row for row in rows}
    hits: list[SearchHit] = []
    for chunk_id, score in ranked:
        if chunk_id not in by_id:
            continue
        chunk, title, lang, name, kind, created = by_id[chunk_id]
        if not _passes(filters, kind, name, lang, created):
            continue
        better = next((h for h in hits if _overlaps(h, chunk.document_id, chunk.char_start, chunk.char_end)), None)
        if better is not None:
            # the overlapping piece widens the better-ranked hit instead of repeating it; a piece bridging two
            # hits of one document joins them, so no two hits overlap
            _merge(better, chunk.char_start, chunk.char_end, chunk.text)
            for bridged in [h for h in hits if h is not better
                            and _overlaps(h, better.document_id, better.char_start, better.char_end)]:
                _merge(better, bridged.char_start, bridged.char_end, bridged.text)
                hits.remove(bridged)
            continue
        hits.append(SearchHit(
            rank=len(hits) + 1, score=score, chunk_id=chunk.id, text=chunk.text, document_id=chunk.document_id,
            document_title=title, file_name=name, unit=chunk.unit, unit_number=chunk.unit_number,
            unit_label=chunk.unit_label, heading=chunk.heading, char_start=chunk.char_start,
            char_end=chunk.char_end, lexical_score=lexical.get(chunk_id), dense_score=dense.get(chunk_id)))
        if len(hits) == top_k:
            break
    for rank, hit in enumerate(hits, start=1):
        hit.rank = rank  # a bridged hit may have left a gap
    add_table_headers(home, hits)
    return hits


def _overlaps(hit: SearchHit, document_id: str, start: int, end: int) -> bool:
    return hit.document_id == document_id and hit.char_start < end and start < hit.char_end


def _merge(hit: SearchHit, start: int, end: int, text: str) -> None:
    """Widen `hit` to the union of its span and an overlapping one's (both exact slices of one text)."""
    first, second = (hit.char_start, hit.char_end, hit.text), (start, end, text)
    if second[0] < first[0]:
        first, second = second, first
    union = first[2] + second[2][first[1] - second[0]:] if second[1] > first[1] else first[2]
    hit.text, hit.char_start, hit.char_end = union, first[0], max(first[1], second[1])


def add_table_headers(home: Home, hits: list[SearchHit]) -> None:
    """A hit that starts inside a table (a row, no separator row) gets the header of the table it continues."""
    continuing = [h for h in hits
                  if h.text.startswith("|") and not any(map(is_separator_row, h.text.split("\n")))]
    if not continuing:
        return
    with home.catalog.session() as session:
        for hit in continuing:
            earlier = session.execute(
                select(Chunk.text).where(Chunk.document_id == hit.document_id, Chunk.char_start < hit.char_start,
                                         Chunk.unit == hit.unit, Chunk.unit_number == hit.unit_number)
                .order_by(Chunk.char_start.desc()).limit(8)).scalars()
            for text in earlier:
                lines = text.split("\n")
                last = next((i for i in range(len(lines) - 1, -1, -1) if is_separator_row(lines[i])), None)
                if last is not None:  # the header row above the separator, and the separator
                    hit.table_header = "\n".join(lines[max(last - 1, 0):last + 1])
                    break


def _passes(filters: SearchFilters, kind: str, name: str, lang: str, created: datetime) -> bool:
    if filters.types and kind not in filters.types:
        return False
    if filters.file_glob and not fnmatch.fnmatch(name, filters.file_glob):
        return False
    if filters.lang and lang != filters.lang:
        return False
    if filters.created_after and _naive(created) < _naive(filters.created_after):
        return False
    return not (filters.created_before and _naive(created) > _naive(filters.created_before))


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)
