"""Remove running page headers and footers: short lines that open or close most pages of a document.

Digits are masked when comparing ("Page 3 of 12" matches "Page 4 of 12"). Only the first and
last two lines of each page are candidates, and only those lines are removed, so a body line
that happens to match elsewhere on a page stays. A running line is short (at most
MAX_RUNNING_WORDS words or MAX_RUNNING_CHARS characters): a catalogue whose pages each end with
"Its 540 Wh battery gives a range of up to 95 km, ..." has one templated sentence per page,
which masks to the same key but is the document's content (the sample brochure lost every
product's range and weight this way before). Headings are compared with their digits ("Model 1"
on page 1, "Model 2" on page 2 are titles; the same heading on every page is a running title).
"""

from __future__ import annotations

import re
from collections import Counter

from ownllm.ingest.parsed import Block, Unit

EDGE_LINES = 2
MIN_PAGES = 3
MAX_RUNNING_WORDS = 12
MAX_RUNNING_CHARS = 80


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def _short(line: str) -> bool:
    text = line.strip()
    return len(text.split()) <= MAX_RUNNING_WORDS and len(text) <= MAX_RUNNING_CHARS


def _edge_positions(unit: Unit) -> list[tuple[int, int]]:
    """(block index, line index) of the page's first and last EDGE_LINES non-empty lines."""
    positions = [(b, n) for b, block in enumerate(unit.blocks)
                 for n, line in enumerate(block.text.split("\n")) if line.strip()]
    if len(positions) <= 2 * EDGE_LINES:
        return positions
    return positions[:EDGE_LINES] + positions[-EDGE_LINES:]


def _edge_keys(unit: Unit) -> dict[tuple[int, int], str]:
    """Each short edge line's comparison key; a heading's digits are not masked ("Chapter 2" is a title)."""
    keys = {}
    for b, n in _edge_positions(unit):
        block = unit.blocks[b]
        line = block.text.split("\n")[n]
        if _short(line):
            keys[(b, n)] = line.strip().lower() if block.kind == "heading" else _key(line)
    return keys


def remove_running_lines(units: list[Unit]) -> int:
    """Drop repeated header/footer lines in place; returns how many lines were removed."""
    pages = [u for u in units if u.kind == "page"]
    if len(pages) < MIN_PAGES:
        return 0
    edges = {id(unit): _edge_keys(unit) for unit in pages}
    counts = Counter(key for unit in pages for key in set(edges[id(unit)].values()))
    threshold = max(MIN_PAGES, (len(pages) + 1) // 2)
    repeated = {key for key, n in counts.items() if n >= threshold and key.strip("# ")}
    removed = 0
    for unit in pages:
        drop = {position for position, key in edges[id(unit)].items() if key in repeated}
        if not drop:
            continue
        kept_blocks = []
        for b, block in enumerate(unit.blocks):
            lines = block.text.split("\n")
            kept = [line for n, line in enumerate(lines) if (b, n) not in drop]
            removed += len(lines) - len(kept)
            if any(line.strip() for line in kept):
                kept_blocks.append(Block("\n".join(kept).strip(), block.kind, block.level))
        unit.blocks = kept_blocks
    return removed
