"""Spreadsheets (XLSX via openpyxl) and CSV: every sheet a unit, every table Markdown with its header.

A sheet often holds several tables separated by blank rows; each becomes its own table.
Long tables are cut into row groups that each repeat the header row, so any chunk of a
huge sheet still says what its columns mean.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from openpyxl import load_workbook

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.ooxml_guard import check_package
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.textcodec import decode_text

ROWS_PER_BLOCK = 40


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes").removesuffix(" 00:00")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def split_tables(rows: Iterable[list[str]]) -> list[list[list[str]]]:
    """Blank rows separate tables; empty trailing columns are dropped."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for row in rows:
        if any(cell for cell in row):
            current.append(row)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    trimmed = []
    for table in tables:
        width = max(max((i + 1 for i, c in enumerate(row) if c), default=0) for row in table)
        trimmed.append([row[:width] for row in table])
    return trimmed


def table_blocks(table: list[list[str]]) -> list[Block]:
    header, body = table[0], table[1:]
    if not body:
        return [Block(table_to_markdown([header]), "table")]
    return [Block(table_to_markdown([header, *body[i:i + ROWS_PER_BLOCK]]), "table")
            for i in range(0, len(body), ROWS_PER_BLOCK)]


HIDDEN_SCAN_MAX_BYTES = 5_000_000  # formatting needs openpyxl's full (slower) mode; skip it for huge books


def _hidden_cells(data: bytes) -> int:
    """Non-empty cells a reader of the sheet would not see."""
    book = load_workbook(io.BytesIO(data), data_only=True)
    count = 0
    for sheet in book.worksheets:
        hidden_rows = {i for i, d in sheet.row_dimensions.items() if d.hidden}
        hidden_cols = {key for key, d in sheet.column_dimensions.items() if d.hidden}
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value in (None, ""):
                    continue
                font = cell.font
                color = font.color.rgb if font is not None and font.color is not None else None
                white = isinstance(color, str) and color.upper().endswith("FFFFFF")
                tiny = font is not None and font.sz is not None and font.sz < 1
                if cell.row in hidden_rows or cell.column_letter in hidden_cols or white or tiny:
                    count += 1
    book.close()
    return count


def parse_xlsx(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    _, flags = check_package(data, "xlsx", options.limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ParseError(f"XLSX is damaged or not an Excel workbook: {exc}") from exc
    units, cells = [], 0
    hidden_sheets = [sheet.title for sheet in book.worksheets if sheet.sheet_state != "visible"]
    if hidden_sheets:
        flags = [*flags, f"hidden sheet(s) with content kept: {', '.join(hidden_sheets)}"]
    if len(data) <= HIDDEN_SCAN_MAX_BYTES:
        hidden_cells = _hidden_cells(data)
        if hidden_cells:
            flags = [*flags, f"{hidden_cells} hidden cell(s) (in hidden rows/columns, white or <1 pt font)"]
    for number, sheet in enumerate(book.worksheets, start=1):
        rows = []
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
            if cells > options.limits.max_sheet_cells:
                raise ParseError(f"XLSX has more than {options.limits.max_sheet_cells} cells, over the cap")
            rows.append([_cell(v) for v in row])
        blocks = [block for table in split_tables(rows) for block in table_blocks(table)]
        units.append(Unit("sheet", number, blocks, label=sheet.title))
    book.close()
    return ParsedDocument(book.properties.title or "", units, "openpyxl", flags)


def parse_csv(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    text = decode_text(data).text.lstrip("\ufeff")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    if sum(len(r) for r in rows) > options.limits.max_sheet_cells:
        raise ParseError(f"CSV has more than {options.limits.max_sheet_cells} cells, over the cap")
    blocks = [block for table in split_tables(rows) for block in table_blocks(table)]
    return ParsedDocument("", [Unit("sheet", 1, blocks, label=name)], "csv")
