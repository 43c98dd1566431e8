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


_TEXT_BOX = f"{_W_NS}txbxContent"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _paragraph_text(element: object) -> str:
    """A paragraph's text as a reader sees it with changes accepted: insertions in, deletions out
    (they are `w:delText`), text boxes left for their own blocks."""
    parts: list[str] = []

    def walk(node: object) -> None:
        for child in node:  # type: ignore[attr-defined]
            tag = child.tag
            if tag in (_TEXT_BOX, f"{_W_NS}del", _MC_FALLBACK):
                continue
            if tag == f"{_W_NS}t":
                parts.append(child.text or "")
            elif tag == f"{_W_NS}tab":
                parts.append("\t")
            elif tag in (f"{_W_NS}br", f"{_W_NS}cr"):
                parts.append("\n")
            else:
                walk(child)

    walk(element)
    return "".join(parts).strip()


def _xml_table_rows(element: object) -> list[list[str]]:
    """Cells straight from the XML, for a table python-docx cannot lay out (a broken grid)."""
    return [[_paragraph_text(tc) for tc in tr.iter(f"{_W_NS}tc")] for tr in element.iter(f"{_W_NS}tr")]  # type: ignore[attr-defined]


class _DocxReader:
    """Walks a Word body in order: paragraphs (headings by style), tables, content controls, and the
    text boxes anchored in paragraphs; remembers what it had to skip or flag."""

    def __init__(self, document: object) -> None:
        self.document = document
        self.flags: list[str] = []
        self.text_boxes = 0
        self.tracked = 0

    def blocks(self, container: object) -> list[Block]:
        element = container._element if hasattr(container, "_element") else container  # type: ignore[attr-defined]
        body = element.find(f"{_W_NS}body")
        return self._children(body if body is not None else element, container)

    def _children(self, element: object, parent: object) -> list[Block]:
        blocks: list[Block] = []
        for child in element:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == f"{_W_NS}p":
                blocks += self._paragraph(child, parent)
            elif tag == f"{_W_NS}tbl":
                blocks += self._table(child, parent)
            elif tag == f"{_W_NS}sdt":
                content = child.find(f"{_W_NS}sdtContent")
                if content is not None:
                    blocks += self._children(content, parent)
        return blocks

    def _paragraph(self, element: object, parent: object) -> list[Block]:
        blocks: list[Block] = []
        self.tracked += sum(1 for _ in element.iter(f"{_W_NS}ins")) + sum(1 for _ in element.iter(f"{_W_NS}del"))  # type: ignore[attr-defined]
        text = _paragraph_text(element)
        if text:
            level = _heading_level(Paragraph(element, parent))  # type: ignore[arg-type]
            blocks.append(Block(text, "heading", level) if level else Block(text))
        for box in element.iter(_TEXT_BOX):  # type: ignore[attr-defined]
            ancestors = {ancestor.tag for ancestor in box.iterancestors()}
            if _MC_FALLBACK in ancestors or _TEXT_BOX in ancestors:
                continue  # the VML copy of a DrawingML box, or a box inside a box (read with its parent)
            inner = self._children(box, parent)
            if inner:
                self.text_boxes += 1
                blocks += inner
        return blocks

    def _table(self, element: object, parent: object) -> list[Block]:
        try:
            rows = _table_rows(Table(element, parent))  # type: ignore[arg-type]
        except Exception as exc:  # one malformed table must not cost the document
            try:
                rows = _xml_table_rows(element)
                self.flags.append(f"a table with a broken grid was read cell by cell ({type(exc).__name__})")
            except Exception:
                self.flags.append(f"a malformed table was skipped ({type(exc).__name__}: {exc})")
                return []
        markdown = table_to_markdown(rows)
        return [Block(markdown, "table")] if markdown else []


def _notes(package: zipfile.ZipFile, part: str, tag: str) -> list[str]:
    """Footnotes or endnotes (ids 0 and -1 are the separator lines), or comments with their authors."""
    if part not in package.namelist():
        return []
    root = fromstring(package.read(part), forbid_dtd=True)
    notes = []
    for note in root.iter(f"{_W_NS}{tag}"):
        if tag != "comment" and note.get(f"{_W_NS}id") in ("-1", "0"):
            continue
        text = " ".join(t for t in (_paragraph_text(p) for p in note.iter(f"{_W_NS}p")) if t)
        if text:
            author = note.get(f"{_W_NS}author") if tag == "comment" else None
            notes.append(f"{author}: {text}" if author else text)
    return notes


def _raw_text_length(package: zipfile.ZipFile) -> int:
    root = fromstring(package.read("word/document.xml"), forbid_dtd=True)
    return sum(len(t.text or "") for t in root.iter(f"{_W_NS}t"))


def _headers_and_footers(document: object, reader: _DocxReader) -> list[Block]:
    seen: list[str] = []
    for section in document.sections:  # type: ignore[attr-defined]
        parts = [section.header, section.first_page_header, section.even_page_header,
                 section.footer, section.first_page_footer, section.even_page_footer]
        for part in parts:
            if part.is_linked_to_previous:
                continue
            for block in reader.blocks(part):
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
    reader = _DocxReader(document)
    blocks = reader.blocks(document)
    flags = [*flags, *reader.flags]
    if reader.text_boxes:
        flags.append(f"text from {reader.text_boxes} text box(es)")
    if reader.tracked:
        flags.append(f"{reader.tracked} tracked change(s): insertions kept, deletions left out")
    hidden = _hidden_runs(document)
    if hidden:
        flags.append(f"{hidden} hidden text run(s) (vanished, white or <1 pt)")
    for part, tag, heading in (("word/footnotes.xml", "footnote", "Footnotes"),
                               ("word/endnotes.xml", "endnote", "Endnotes"),
                               ("word/comments.xml", "comment", "Comments")):
        notes = _notes(package, part, tag)
        if notes:
            blocks += [Block(heading, "heading", 2), *(Block(note) for note in notes)]
            if tag == "comment":
                flags.append(f"{len(notes)} reviewer comment(s), kept under 'Comments'")
    extra = _headers_and_footers(document, reader)
    if extra:
        blocks += [Block("Headers and footers", "heading", 2), *extra]
    extracted = sum(len(b.text) for b in blocks)
    raw = _raw_text_length(package)
    if raw > 200 and extracted < 0.7 * raw:
        flags.append(f"only {extracted} of the {raw} characters in the document's XML were extracted")
    title = document.core_properties.title or next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(title, [Unit("section", None, blocks)], "python-docx", flags)


_C_NS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_DGM_URI = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _chart_rows(chart_space: object) -> list[list[str]]:
    """A chart's data as a table: one row per category, one column per series, read from the chart XML
    (any chart type, 3-D included)."""
    series = []
    for ser in chart_space.iter(f"{_C_NS}ser"):  # type: ignore[attr-defined]
        name = " ".join(v.text or "" for v in ser.iterfind(f"{_C_NS}tx//{_C_NS}v")).strip()
        categories = {int(pt.get("idx", 0)): (pt.findtext(f"{_C_NS}v") or "")
                      for pt in ser.iterfind(f"{_C_NS}cat//{_C_NS}pt")}
        values = {int(pt.get("idx", 0)): (pt.findtext(f"{_C_NS}v") or "")
                  for pt in ser.iterfind(f"{_C_NS}val//{_C_NS}pt")}
        if not values:  # scatter and bubble charts: y values
            values = {int(pt.get("idx", 0)): (pt.findtext(f"{_C_NS}v") or "")
                      for pt in ser.iterfind(f"{_C_NS}yVal//{_C_NS}pt")}
        series.append((name or f"series {len(series) + 1}", categories, values))
    if not series:
        return []
    indexes = sorted({i for _, categories, values in series for i in (*categories, *values)})
    labels = next((categories for _, categories, _ in series if categories), {})
    rows = [["", *(name for name, _, _ in series)]]
    rows += [[labels.get(i, str(i + 1)), *(values.get(i, "") for _, _, values in series)] for i in indexes]
    return rows


def _smartart_text(shape: object, part: object) -> list[str]:
    """The texts of a SmartArt diagram, from its data part, in order."""
    graphic = shape._element.find(f".//{_A_NS}graphicData")  # type: ignore[attr-defined]
    if graphic is None or graphic.get("uri") != _DGM_URI:
        return []
    ids = graphic.find(f".//{{{_DGM_URI}}}relIds")
    if ids is None:
        return []
    data = part.related_part(ids.get(f"{_R_NS}dm"))  # type: ignore[attr-defined]
    root = fromstring(data.blob, forbid_dtd=True)
    texts = []
    for point in root.iter(f"{{{_DGM_URI}}}pt"):
        text = "".join(t.text or "" for t in point.iter(f"{_A_NS}t")).strip()
        if text:
            texts.append(text)
    return texts


def _shape_blocks(shapes: object, part: object, flags: list[str]) -> list[Block]:
    blocks: list[Block] = []
    for shape in shapes:  # type: ignore[attr-defined]
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            blocks += _shape_blocks(shape.shapes, part, flags)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text.strip() for cell in row.cells] for row in shape.table.rows]
            markdown = table_to_markdown(rows)
            if markdown:
                blocks.append(Block(markdown, "table"))
        elif getattr(shape, "has_chart", False) and shape.has_chart:
            markdown = table_to_markdown(_chart_rows(shape.chart._chartSpace))
            title = shape.chart._chartSpace.find(f".//{_C_NS}title")
            caption = "".join(t.text or "" for t in title.iter(f"{_A_NS}t")).strip() if title is not None else ""
            if caption:
                blocks.append(Block(caption))
            if markdown:
                blocks.append(Block(markdown, "table"))
                flags.append("chart data read as a table")
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = "\n".join(p.text.strip() for p in shape.text_frame.paragraphs if p.text.strip())
            if text and not (shape.is_placeholder and shape.placeholder_format.type in (1, 3)):  # title/ctr title
                blocks.append(Block(text))
        else:
            try:
                texts = _smartart_text(shape, part)
            except Exception:  # a diagram without its data part: nothing to read
                texts = []
            if texts:
                blocks.append(Block("\n".join(texts)))
                flags.append("SmartArt text read")
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
    shape_flags: list[str] = []
    for number, slide in enumerate(slides, start=1):
        blocks: list[Block] = []
        title = slide.shapes.title.text.strip() if slide.shapes.title is not None else ""
        if title:
            blocks.append(Block(title, "heading", 1))
        blocks += _shape_blocks(slide.shapes, slide.part, shape_flags)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text.strip() if slide.notes_slide.notes_text_frame else ""
            if notes:
                blocks.append(Block(f"Speaker notes: {notes}", "notes"))
        units.append(Unit("slide", number, blocks, label=title or None))
    flags = [*flags, *sorted(set(shape_flags))]
    hidden = _hidden_slide_text(deck, slides)
    if hidden:
        flags = [*flags, f"{hidden} hidden text item(s) (hidden or off-slide shapes, white or <=1 pt runs)"]
    title = deck.core_properties.title or next((u.label for u in units if u.label), "") or ""
    return ParsedDocument(title, units, "python-pptx", flags)
