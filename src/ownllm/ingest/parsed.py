"""What every parser returns: a document as units (pages, slides, sheets, sections) of blocks.

Keeping the unit structure lets chunks carry provenance ("page 3", "slide 7", "00:01:05")
and lets the chunker keep a table or a slide whole; parsers never chunk themselves.
Containers (zip, e-mail) also return their members as attachments, which the pipeline
ingests as files of their own with the container as parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Block:
    text: str
    kind: str = "paragraph"  # heading | paragraph | table | list | code | notes
    level: int = 0  # heading level (1 = top)


@dataclass
class Unit:
    kind: str  # page | slide | sheet | section | chapter | time
    number: int | None
    blocks: list[Block] = field(default_factory=list)
    label: str | None = None  # sheet name, "00:01:05–00:01:32"


@dataclass
class Attachment:
    name: str
    data: bytes


@dataclass
class ParsedDocument:
    title: str
    units: list[Unit]
    parser: str
    flags: list[str] = field(default_factory=list)  # things a human should know (OCR used, hidden text…)
    meta: dict[str, Any] = field(default_factory=dict)  # OCR confidence, detected speech language…
    attachments: list[Attachment] = field(default_factory=list)
    rejected_members: list[tuple[str, str]] = field(default_factory=list)  # (member name, reason)

    @property
    def has_text(self) -> bool:
        return any(block.text.strip() for unit in self.units for block in unit.blocks)


class ParseError(Exception):
    """A file could not be parsed; the message says why in words a user can act on."""


class UnsupportedType(ParseError):
    """No parser handles this type."""


def table_cells(rows: list[list[str]]) -> list[list[str]]:
    """The rows that hold anything, and the columns that hold anything: empty rules drawn as a table go."""
    rows = [[(cell or "").strip() for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    keep = [index for index in range(width) if any(row[index] for row in rows)]
    return [[row[index] for index in keep] for row in rows]


def is_degenerate_table(rows: list[list[str]]) -> bool:
    """A 'table' of one column, or of one row: ruled text or a frame, better read as text."""
    cells = table_cells(rows)
    return not cells or len(cells[0]) < 2 or len(cells) < 2


_SEPARATOR_ROW = re.compile(r"\|\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*")


def is_separator_row(line: str) -> bool:
    """The row under a Markdown table's header ("|---|---|", alignment colons allowed, the closing pipe
    optional as in a row): what makes it a table."""
    return _SEPARATOR_ROW.fullmatch(line) is not None


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def markdown_row_cells(line: str) -> list[str] | None:
    """The cells of one Markdown table row ("| a | b |"), or None for a line that is not a row.

    Splits only on unescaped pipes and unescapes the rest, so a cell that held "A|B" when
    `table_to_markdown` wrote it reads back as "A|B", not as two cells. The closing pipe is optional,
    as in Markdown ("| a | b" is a row of two cells).
    """
    line = line.strip()
    if not line.startswith("|"):
        return None
    body = line[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _UNESCAPED_PIPE.split(body)]


def table_to_markdown(rows: list[list[str]]) -> str:
    """Render a table as Markdown so it stays a table for the model and for the chunker.

    Empty rows and columns are dropped, and a degenerate table (one row or one column) becomes its
    lines of text instead: ruled lines around a paragraph are not a table.
    """
    cells = table_cells(rows)
    if not cells:
        return ""
    if is_degenerate_table(cells):
        return "\n".join(line.strip() for row in cells for cell in row for line in cell.split("\n") if line.strip())
    rows = [[cell.replace("|", "\\|").replace("\n", " ").strip() for cell in row] for row in cells]
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)
