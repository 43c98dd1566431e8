"""Structure-aware chunking with exact character spans into the document's full text.

The document text is the blocks joined by blank lines, unit after unit. A chunk never
crosses a unit (so it has one page or slide to cite), starts at a heading when one
comes, keeps a block whole when it fits, and splits a long block at sentence ends
(。！？； for Chinese, . ! ? for English) with a sentence of overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ownllm.ingest.parsed import Block, ParsedDocument, Unit
from ownllm.text import approx_tokens, sentence_spans


@dataclass
class ChunkSpan:
    text: str
    unit: str
    unit_number: int | None
    unit_label: str | None
    heading: str | None
    char_start: int
    char_end: int
    n_tokens: int


@dataclass
class _Placed:
    block: Block
    start: int
    end: int


def block_offsets(document: ParsedDocument) -> dict[int, int]:
    """Where each block (by identity) starts in the document text that `layout` builds."""
    _, units = layout(document)
    return {id(p.block): p.start for _, placed in units for p in placed}


def layout(document: ParsedDocument) -> tuple[str, list[tuple[int, list[_Placed]]]]:
    """Join all blocks into one text; return it with each unit's blocks and their offsets."""
    parts: list[str] = []
    offset = 0
    units = []
    for index, unit in enumerate(document.units):
        placed = []
        for block in unit.blocks:
            if parts:
                parts.append("\n\n")
                offset += 2
            parts.append(block.text)
            placed.append(_Placed(block, offset, offset + len(block.text)))
            offset += len(block.text)
        units.append((index, placed))
    return "".join(parts), units


def _sentences(placed: _Placed) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) inside one block."""
    return [(placed.start + a, placed.start + b) for a, b in sentence_spans(placed.block.text)]


def _emit(full_text: str, pieces: list[tuple[int, int]], unit: Unit, heading: str | None,
          chunks: list[ChunkSpan], count: Callable[[str], int]) -> None:
    """Turn the collected spans into one chunk (trimmed, with its exact offsets)."""
    if not pieces:
        return
    start, end = pieces[0][0], pieces[-1][1]
    raw = full_text[start:end]
    text = raw.strip()
    if text:
        lead = len(raw) - len(raw.lstrip())
        chunks.append(ChunkSpan(text, unit.kind, unit.number, unit.label, heading, start + lead,
                                start + lead + len(text), count(text)))


def chunk_document(document: ParsedDocument, max_tokens: int, overlap_tokens: int,
                   count: Callable[[str], int] = approx_tokens) -> tuple[str, list[ChunkSpan]]:
    full_text, units = layout(document)
    chunks: list[ChunkSpan] = []
    heading: str | None = None

    for unit_index, placed_blocks in units:
        unit = document.units[unit_index]
        pieces: list[tuple[int, int]] = []  # spans collected for the chunk being built
        budget = 0
        for placed in placed_blocks:
            size = count(placed.block.text)
            if placed.block.kind == "heading":
                _emit(full_text, pieces, unit, heading, chunks, count)
                heading = placed.block.text
                pieces, budget = [(placed.start, placed.end)], size
            elif budget + size <= max_tokens:
                pieces.append((placed.start, placed.end))
                budget += size
            elif size <= max_tokens:
                _emit(full_text, pieces, unit, heading, chunks, count)
                pieces, budget = [(placed.start, placed.end)], size
            else:
                # a block larger than a chunk: split at sentences, carrying overlap forward
                for sentence in _sentences(placed):
                    sentence_tokens = count(full_text[sentence[0]:sentence[1]])
                    if budget + sentence_tokens > max_tokens and pieces:
                        carried = _overlap(pieces, full_text, overlap_tokens, count)
                        _emit(full_text, pieces, unit, heading, chunks, count)
                        pieces = carried
                        budget = sum(count(full_text[s:e]) for s, e in pieces)
                    pieces.append(sentence)
                    budget += sentence_tokens
        _emit(full_text, pieces, unit, heading, chunks, count)
    return full_text, chunks


def _overlap(pieces: list[tuple[int, int]], text: str, overlap_tokens: int,
             count: Callable[[str], int]) -> list[tuple[int, int]]:
    carried: list[tuple[int, int]] = []
    total = 0
    for span in reversed(pieces):
        size = count(text[span[0]:span[1]])
        if total + size > overlap_tokens:
            break
        carried.insert(0, span)
        total += size
    return carried
