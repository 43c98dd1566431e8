"""OpenDocument (.odt, .ods, .odp) read from its `content.xml`: headings, paragraphs, lists and tables
in body order; sheets as tables (header repeated, like XLSX); slides with their speaker notes."""

from __future__ import annotations

from defusedxml.ElementTree import fromstring

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.parsers.zip_limits import open_capped_zip

_NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}
T, TB, D, P = (f"{{{_NS[k]}}}" for k in ("text", "table", "draw", "presentation"))
MAX_REPEAT = 1000  # a cell or row "repeated" a million times is how empty ranges are stored


def _text(element: object) -> str:
    """A paragraph's text: spans, spaces (`text:s c="3"`), tabs and line breaks; notes and annotations left out."""
    parts: list[str] = []

    def walk(node: object) -> None:
        if node.text:  # type: ignore[attr-defined]
            parts.append(node.text)  # type: ignore[attr-defined]
        for child in node:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == f"{T}s":
                parts.append(" " * int(child.get(f"{T}c", "1")))
            elif tag == f"{T}tab":
                parts.append("\t")
            elif tag == f"{T}line-break":
                parts.append("\n")
            elif tag not in (f"{T}note", f"{{{_NS['office']}}}annotation"):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts).strip()


def _table_rows(table: object) -> list[list[str]]:
    rows = []
    for row in table.iter(f"{TB}table-row"):  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row:
            if cell.tag not in (f"{TB}table-cell", f"{TB}covered-table-cell"):
                continue
            text = "\n".join(t for t in (_text(p) for p in cell.iter(f"{T}p")) if t)
            cells += [text] * min(int(cell.get(f"{TB}number-columns-repeated", "1")), MAX_REPEAT if text else 1)
        repeat = min(int(row.get(f"{TB}number-rows-repeated", "1")), MAX_REPEAT if any(cells) else 1)
        rows += [cells] * repeat
    return rows


def _body_blocks(container: object) -> list[Block]:
    blocks: list[Block] = []
    for child in container:  # type: ignore[attr-defined]
        tag = child.tag
        if tag == f"{T}h":
            text = _text(child)
            if text:
                blocks.append(Block(text, "heading", int(child.get(f"{T}outline-level", "1"))))
        elif tag == f"{T}p":
            text = _text(child)
            if text:
                blocks.append(Block(text))
        elif tag == f"{TB}table":
            markdown = table_to_markdown(_table_rows(child))
            if markdown:
                blocks.append(Block(markdown, "table"))
        elif tag in (f"{T}list", f"{T}list-item", f"{T}section", f"{T}list-header", f"{D}frame", f"{D}text-box",
                     f"{D}custom-shape", f"{D}g"):
            blocks += _body_blocks(child)
    return blocks


def _notes_blocks(text: object) -> list[Block]:
    """Footnotes, endnotes and comments, each under its own heading after the body (as for DOCX)."""
    sections: dict[str, list[str]] = {"Footnotes": [], "Endnotes": [], "Comments": []}
    for note in text.iter(f"{T}note"):  # type: ignore[attr-defined]
        body = note.find(f"{T}note-body")
        content = " ".join(t for t in (_text(p) for p in body.iter(f"{T}p")) if t) if body is not None else ""
        if content:
            sections["Endnotes" if note.get(f"{T}note-class") == "endnote" else "Footnotes"].append(content)
    for annotation in text.iter(f"{{{_NS['office']}}}annotation"):  # type: ignore[attr-defined]
        content = " ".join(t for t in (_text(p) for p in annotation.iter(f"{T}p")) if t)
        if content:
            sections["Comments"].append(content)
    blocks: list[Block] = []
    for heading, contents in sections.items():
        if contents:
            blocks += [Block(heading, "heading", 2), *(Block(content) for content in contents)]
    return blocks


def parse_odf(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    package, _ = open_capped_zip(data, "OpenDocument", "parts", options.limits)
    try:
        root = fromstring(package.read("content.xml"), forbid_dtd=True)
    except KeyError as exc:
        raise ParseError("OpenDocument file has no content.xml") from exc
    except Exception as exc:
        raise ParseError(f"OpenDocument content is not readable XML: {exc}") from exc
    body = root.find(f"{{{_NS['office']}}}body")
    if body is None:
        raise ParseError("OpenDocument file has no body")
    units: list[Unit] = []
    presentation = body.find(f"{{{_NS['office']}}}presentation")
    spreadsheet = body.find(f"{{{_NS['office']}}}spreadsheet")
    text = body.find(f"{{{_NS['office']}}}text")
    if presentation is not None:
        for number, page in enumerate(presentation.iter(f"{D}page"), start=1):
            notes = page.find(f"{P}notes")
            if notes is not None:
                page.remove(notes)
            blocks = _body_blocks(page)
            note_text = " ".join(b.text for b in _body_blocks(notes)) if notes is not None else ""
            if note_text:
                blocks.append(Block(f"Speaker notes: {note_text}", "notes"))
            units.append(Unit("slide", number, blocks, label=page.get(f"{D}name")))
        parser = "odp"
    elif spreadsheet is not None:
        for number, table in enumerate(spreadsheet.iter(f"{TB}table"), start=1):
            markdown = table_to_markdown(_table_rows(table))
            units.append(Unit("sheet", number, [Block(markdown, "table")] if markdown else [],
                              label=table.get(f"{TB}name")))
        parser = "ods"
    elif text is not None:
        units.append(Unit("section", None, _body_blocks(text) + _notes_blocks(text)))
        parser = "odt"
    else:
        raise ParseError("OpenDocument file of an unknown kind (not text, spreadsheet or presentation)")
    title = ""
    if "meta.xml" in package.namelist():
        meta = fromstring(package.read("meta.xml"), forbid_dtd=True)
        title = (meta.findtext(f".//{{{_NS['dc']}}}title") or "").strip()
    return ParsedDocument(title, units, parser)
