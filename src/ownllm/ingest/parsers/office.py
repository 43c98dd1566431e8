"""Word documents with python-docx: headings, paragraphs and tables in body order."""

from __future__ import annotations

import io
import zipfile

from docx import Document as open_docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown


def _heading_level(paragraph: Paragraph) -> int:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return 1
    if style.startswith("Heading"):
        digits = style.removeprefix("Heading").strip()
        return int(digits) + 1 if digits.isdigit() else 2
    return 0


def _table_rows(table: Table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            # merged cells repeat the same cell object; keep each once
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(cell.text.strip())
        rows.append(cells)
    return rows


def parse_docx(data: bytes, name: str) -> ParsedDocument:
    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(f"DOCX is damaged or not a Word document: {exc}") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            level = _heading_level(item)
            blocks.append(Block(text, "heading", level) if level else Block(text))
        elif isinstance(item, Table):
            markdown = table_to_markdown(_table_rows(item))
            if markdown:
                blocks.append(Block(markdown, "table"))
    title = document.core_properties.title or ""
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(title=title, units=[Unit("section", None, blocks)], parser="python-docx")
