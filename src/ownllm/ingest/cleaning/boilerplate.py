"""Remove running page headers and footers: lines that open or close most pages of a document.

Digits are masked when comparing ("Page 3 of 12" matches "Page 4 of 12"), and only the
first and last two lines of each page are candidates, so body text is never touched.
"""

from __future__ import annotations

import re
from collections import Counter

from ownllm.ingest.parsed import Block, Unit

EDGE_LINES = 2
MIN_PAGES = 3


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def _edge_lines(unit: Unit) -> list[str]:
    lines = [line for block in unit.blocks for line in block.text.split("\n") if line.strip()]
    return lines[:EDGE_LINES] + lines[-EDGE_LINES:]


def remove_running_lines(units: list[Unit]) -> int:
    """Drop repeated header/footer lines in place; returns how many lines were removed."""
    pages = [u for u in units if u.kind == "page"]
    if len(pages) < MIN_PAGES:
        return 0
    counts = Counter(key for unit in pages for key in {_key(line) for line in _edge_lines(unit)})
    threshold = max(MIN_PAGES, (len(pages) + 1) // 2)
    repeated = {key for key, n in counts.items() if n >= threshold and key.strip("# ")}
    removed = 0
    for unit in pages:
        edges = {_key(line) for line in _edge_lines(unit)} & repeated
        if not edges:
            continue
        kept_blocks = []
        for block in unit.blocks:
            lines = block.text.split("\n")
            kept = [line for line in lines if not (line.strip() and _key(line) in edges)]
            removed += len(lines) - len(kept)
            if any(line.strip() for line in kept):
                kept_blocks.append(Block("\n".join(kept).strip(), block.kind, block.level))
        unit.blocks = kept_blocks
    return removed
