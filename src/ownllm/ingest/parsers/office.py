"""Word and PowerPoint with python-docx / python-pptx, after the package passed the OOXML guard.

DOCX: headings, paragraphs and tables in body order; headers and footers once at the end
(first-page, even and default variants repeat the same lines). PPTX: one unit per slide with
its title, text, tables and speaker notes. A package the libraries reject but whose XML is
intact (a malformed but readable deck) falls back to reading the text runs straight from XML.
"""

from __future__ import annotations

import io
import re
import zipfile

from defusedxml.ElementTree import fromstring
from docx import Document as open_docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.ooxml_guard import check_package
from ownllm.ingest.parsers.options import ParseOptions

_A_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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
            if previous is not None and cell._tc is previous:  # a merged cell repeats itself
                continue
            previous = cell._tc
            cells.append(cell.text.strip())
        rows.append(cells)
    return rows


def _docx_blocks(container: object) -> list[Block]:
    blocks: list[Block] = []
    for item in container.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if text:
                level = _heading_level(item)
                blocks.append(Block(text, "heading", level) if level else Block(text))
        elif isinstance(item, Table):
            markdown = table_to_markdown(_table_rows(item))
            if markdown:
                blocks.append(Block(markdown, "table"))
    return blocks


def _headers_and_footers(document: object) -> list[Block]:
    seen: list[str] = []
    for section in document.sections:  # type: ignore[attr-defined]
        parts = [section.header, section.first_page_header, section.even_page_header,
                 section.footer, section.first_page_footer, section.even_page_footer]
        for part in parts:
            if part.is_linked_to_previous:
                continue
            for block in _docx_blocks(part):
                if block.text not in seen:
                    seen.append(block.text)
    return [Block(text) for text in seen]


def _xml_text_fallback(package: zipfile.ZipFile, prefix: str, tag: str, unit_kind: str) -> list[Unit]:
    """Text runs read straight from the XML parts, one unit per part, in part-number order."""
    def number(name: str) -> int:
        found = re.findall(r"(\d+)\.xml$", name)
        return int(found[0]) if found else 0

    names = sorted((n for n in package.namelist() if n.startswith(prefix) and n.endswith(".xml")), key=number)
    units = []
    for index, name in enumerate(names, start=1):
        root = fromstring(package.read(name), forbid_dtd=True)
        paragraphs = []
        for para in root.iter(f"{_A_NS}p" if tag == "a" else f"{_W_NS}p"):
            text = "".join(t.text or "" for t in para.iter(f"{_A_NS}t" if tag == "a" else f"{_W_NS}t")).strip()
            if text:
                paragraphs.append(Block(text))
        units.append(Unit(unit_kind, index if unit_kind == "slide" else None, paragraphs))
    return units


def _hidden_runs(document: object) -> int:
    """Runs a reader would not see: vanished, white, or under 1 pt (text that can smuggle instructions)."""
    hidden = 0
    for paragraph in document.paragraphs:  # type: ignore[attr-defined]
        for run in paragraph.runs:
            if not run.text.strip():
                continue
            font = run.font
            white = font.color is not None and font.color.type is not None and str(font.color.rgb) == "FFFFFF"
            tiny = font.size is not None and font.size.pt < 1.0
            if font.hidden or white or tiny:
                hidden += 1
    return hidden


def _run_is_hidden(font: object) -> bool:
    """White or sub-1-pt text in a slide (a reader cannot see it; a model reading the text would)."""
    try:
        white = font.color is not None and font.color.type is not None and str(font.color.rgb) == "FFFFFF"  # type: ignore[attr-defined]
    except AttributeError:  # theme colours have no rgb
        white = False
    size = font.size  # type: ignore[attr-defined]
    return white or (size is not None and size.pt <= 1.0)  # PowerPoint cannot go below 1 pt


def _hidden_slide_text(deck: object, slides: list) -> int:
    """Text shapes marked hidden, placed off the slide, or runs that are white or under 1 pt."""
    width, height = deck.slide_width or 0, deck.slide_height or 0  # type: ignore[attr-defined]
    hidden = 0
    for slide in slides:
        for shape in slide.shapes:
            if not shape.has_text_frame or not shape.text_frame.text.strip():
                continue
            properties = shape._element.find(".//{*}cNvPr")
            off_slide = shape.left is not None and width and (
                shape.left >= width or shape.top >= height or shape.left + shape.width <= 0
                or shape.top + shape.height <= 0)
            if (properties is not None and properties.get("hidden") in ("1", "true")) or off_slide:
                hidden += 1
                continue
            hidden += sum(1 for paragraph in shape.text_frame.paragraphs for run in paragraph.runs
                          if run.text.strip() and _run_is_hidden(run.font))
    return hidden


def parse_docx(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    package, flags = check_package(data, "docx", options.limits)
    try:
        document = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on broken packages
        units = _xml_text_fallback(package, "word/document", "w", "section")
        if not any(u.blocks for u in units):
            raise ParseError(f"DOCX is damaged or not a Word document: {exc}") from exc
        return ParsedDocument("", units, "docx-xml-fallback", [*flags, f"read raw XML: {exc}"])
    blocks = _docx_blocks(document)
    hidden = _hidden_runs(document)
    if hidden:
        flags = [*flags, f"{hidden} hidden text run(s) (vanished, white or <1 pt)"]
    extra = _headers_and_footers(document)
    if extra:
        blocks += [Block("Headers and footers", "heading", 2), *extra]
    title = document.core_properties.title or next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(title, [Unit("section", None, blocks)], "python-docx", flags)


def _shape_blocks(shapes: object) -> list[Block]:
    blocks: list[Block] = []
    for shape in shapes:  # type: ignore[attr-defined]
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            blocks += _shape_blocks(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text.strip() for cell in row.cells] for row in shape.table.rows]
            markdown = table_to_markdown(rows)
            if markdown:
                blocks.append(Block(markdown, "table"))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = "\n".join(p.text.strip() for p in shape.text_frame.paragraphs if p.text.strip())
            if text and not (shape.is_placeholder and shape.placeholder_format.type in (1, 3)):  # title/ctr title
                blocks.append(Block(text))
    return blocks


def parse_pptx(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    package, flags = check_package(data, "pptx", options.limits)
    try:
        deck = Presentation(io.BytesIO(data))
        slides = list(deck.slides)
    except Exception as exc:
        units = _xml_text_fallback(package, "ppt/slides/slide", "a", "slide")
        if not any(u.blocks for u in units):
            raise ParseError(f"PPTX is damaged or not a PowerPoint deck: {exc}") from exc
        return ParsedDocument("", units, "pptx-xml-fallback", [*flags, f"read raw XML: {exc}"])
    units = []
    for number, slide in enumerate(slides, start=1):
        blocks: list[Block] = []
        title = slide.shapes.title.text.strip() if slide.shapes.title is not None else ""
        if title:
            blocks.append(Block(title, "heading", 1))
        blocks += _shape_blocks(slide.shapes)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text.strip() if slide.notes_slide.notes_text_frame else ""
            if notes:
                blocks.append(Block(f"Speaker notes: {notes}", "notes"))
        units.append(Unit("slide", number, blocks, label=title or None))
    hidden = _hidden_slide_text(deck, slides)
    if hidden:
        flags = [*flags, f"{hidden} hidden text item(s) (hidden or off-slide shapes, white or <=1 pt runs)"]
    title = deck.core_properties.title or next((u.label for u in units if u.label), "") or ""
    return ParsedDocument(title, units, "python-pptx", flags)
