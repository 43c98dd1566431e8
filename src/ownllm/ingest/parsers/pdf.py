"""PDF with pypdfium2: text layer in reading order, tables via pdfplumber, OCR for scans.

Per page: pdfium extracts the text layer (fast, handles CID fonts, rotation, AES). Pages
drawing ruled lines are re-read with pdfplumber, which finds tables; they become Markdown
tables between the text above and below them. Pages without a usable text layer (a scan,
or an old scan whose OCR layer is garbage) are rendered and OCRed. Invisible, white or
near-zero-size text is flagged, since it can hide instructions from a human reader.
"""

from __future__ import annotations

import ctypes
import io
import re
import statistics

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ownllm.ingest.layout import (
    Line,
    bands,
    heading_level,
    merge_segments,
    paragraph_lines,
    paragraph_text,
    reading_order,
)
from ownllm.ingest.parsed import (
    Block,
    ParsedDocument,
    ParseError,
    Unit,
    is_degenerate_table,
    table_cells,
    table_to_markdown,
)
from ownllm.ingest.parsers.image_ocr import OCR_SCRIPTS, OcrPage, is_blank, ocr_image
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.text_direction import visual_to_logical

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A line wrap between two Chinese characters is not a word break: Chinese has no spaces.
_CJK_WRAP = re.compile(r"(?<=[\u3400-\u9fff\uff0c\u3002\u3001\uff1b\uff1a])\r?\n(?=[\u3400-\u9fff])")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+|[\u3400-\u9fff]|[\uac00-\ud7af]+|[\u0600-\u06ff]+|\d+")
MIN_PATHS_FOR_TABLES = 6


def text_quality(text: str) -> float:
    """Share of the text made of plausible words; OCR garbage and symbol soup score low."""
    stripped = re.sub(r"\s+", "", text)
    if not stripped:
        return 0.0
    wordy = sum(len(w) for w in _WORD.findall(text) if len(w) < 25 and (not w.isalpha() or
                                                                        re.search(r"[aeiouyAEIOUY]", w)
                                                                        or not w.isascii()))
    return wordy / len(stripped)


def _blocks(text: str) -> list[Block]:
    text = _CJK_WRAP.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [Block(p.strip()) for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def page_lines(textpage: pdfium.PdfTextPage, height: float) -> list[Line]:
    """The text layer as line segments with boxes (y down), pieces of one line joined.

    Read character by character in pdfium's order (logical order, right-to-left scripts included), each with
    its loose box (the font's full line height, so accents and dots do not move a glyph off its line). A
    segment ends at a line break pdfium reports or where the next character is not next to the previous one.
    pdfium's own spaces are kept; a hyphen that breaks a word at a line end (\x02) stays a hyphen for the
    paragraph builder to join.
    """
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    segments: list[Line] = []
    chars: list[str] = []
    box: list[float] = []
    first = 0

    def close() -> None:
        text = "".join(chars).strip()
        if text and box:
            segments.append(Line(text, box[0], box[1], box[2], box[3], first + 1))
        chars.clear()
        box.clear()

    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        char = chr(code) if 0 < code < 0x110000 else ""
        if char in ("\r", "\n"):
            close()
            continue
        if char in ("\x02", "\ufffe") or pdfium_c.FPDFText_IsHyphen(raw, index) == 1:
            char = "-"
        if not char or char.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, index, rect) or rect.right <= rect.left:
            continue
        here = (rect.left, height - rect.top, rect.right, height - rect.bottom)
        if box and not _next_to(box, here):
            close()
        if not box:
            first = index
            box.extend(here)
        else:
            box[:] = [min(box[0], here[0]), min(box[1], here[1]), max(box[2], here[2]), max(box[3], here[3])]
        chars.append(char)
    close()
    return merge_segments(segments)


def _next_to(box: list[float], char: tuple[float, float, float, float]) -> bool:
    """Whether a character continues the segment: on its line and within a couple of ems of it, on either side
    (right-to-left text grows leftwards)."""
    size = max(1.0, char[3] - char[1])
    overlap = min(box[3], char[3]) - max(box[1], char[1])
    gap = max(char[0] - box[2], box[0] - char[2])
    return overlap >= 0.5 * min(size, box[3] - box[1]) and gap < 1.5 * size


def layout_blocks(lines: list[Line]) -> list[Block]:
    """Blocks in reading order (columns found from the page's whitespace; see ingest/layout.py); a short
    paragraph in larger type than the page's body text is a heading."""
    if not lines:
        return []
    body = statistics.median(line.height for line in lines for _ in range(max(1, len(line.text) // 10)))
    blocks = []
    for column in reading_order(lines):
        for group in paragraph_lines(column):
            text = _CJK_WRAP.sub("", paragraph_text(group))
            if not text.strip():
                continue
            level = heading_level(group, body)
            blocks.append(Block(text, "heading", level) if level else Block(text))
    return blocks


def _hidden_text_objects(page: pdfium.PdfPage) -> tuple[int, int]:
    """(hidden text objects, all text objects) on a page."""
    hidden = total = 0
    size = ctypes.c_float()
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,), max_depth=3):
        total += 1
        mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
        tiny = pdfium_c.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size)) and size.value < 1.0
        white = (pdfium_c.FPDFPageObj_GetFillColor(obj.raw, *(ctypes.byref(c) for c in (r, g, b, a)))
                 and min(r.value, g.value, b.value) >= 250 and mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE)
        if mode == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE or tiny or white:
            hidden += 1
    return hidden, total


def _has_large_image(page: pdfium.PdfPage, width: float, height: float) -> bool:
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) > 0.5 * width * height:
            return True
    return False


def _table_page_blocks(plumber_page: object, lines: list[Line]) -> list[Block] | None:
    """Text and tables of one page in vertical order, or None when pdfplumber finds no real table.

    Tables come from pdfplumber's ruled-line grid; the text around them is the page's own lines (outside
    every table box) in reading order, so columns and right-to-left lines are read as on a page without tables.
    """
    tables = _real_tables(plumber_page.find_tables())  # type: ignore[attr-defined]
    if not tables:
        return None
    tables.sort(key=lambda item: item[0][1])
    around = bands(lines, [box for box, _ in tables])
    blocks = layout_blocks(around[0])
    for (_, rows), band in zip(tables, around[1:], strict=True):
        markdown = table_to_markdown(rows)
        if markdown:
            blocks.append(Block(markdown, "table"))
        blocks += layout_blocks(band)
    return blocks


class _TableReader:
    """pdfplumber over the same bytes, opened once per file. Its parser (pdfminer) is stricter than pdfium:
    on a damaged file it may see fewer pages or none, and then those pages keep their plain text layer."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pdf, self.problem = data, None, ""

    def page_blocks(self, index: int, lines: list[Line]) -> list[Block] | None:
        try:
            if self.pdf is None:
                import pdfplumber

                self.pdf = pdfplumber.open(io.BytesIO(self.data))
            return _table_page_blocks(self.pdf.pages[index], lines)
        except Exception as exc:  # any pdfminer failure only costs the table structure
            self.problem = f"table detection failed on damaged PDF structure ({type(exc).__name__}); text kept"
            return None


def _real_tables(found: list) -> list[tuple[tuple[float, float, float, float], list[list[str]]]]:
    """The grids that are tables: not a frame around other tables, not one row or one column of ruled text,
    and not a grid whose rules were only partly drawn so that one cell swallowed most of the table."""
    boxes = [table.bbox for table in found]
    kept = []
    for table in found:
        x0, top, x1, bottom = table.bbox
        if any(other != table.bbox and x0 <= other[0] + 1 and top <= other[1] + 1 and x1 >= other[2] - 1
               and bottom >= other[3] - 1 for other in boxes):
            continue  # a page border or box drawn around the real tables
        # pdfplumber's characters come in drawing order: right-to-left cells are put back in logical order
        rows = [[visual_to_logical(cell or "") for cell in row] for row in table.extract()]
        cells = table_cells(rows)
        if is_degenerate_table(cells):
            continue
        flat = [cell for row in cells for cell in row]
        if sum(1 for cell in flat if not cell) >= 0.5 * len(flat) and max(cell.count("\n") for cell in flat) >= 3:
            continue  # most cells empty and some holding many lines: the rules do not match the content
        kept.append((table.bbox, rows))
    return kept


def _ocr_page(page: pdfium.PdfPage, width: float, height: float, options: ParseOptions) -> OcrPage:
    scale = min(2.5, (options.limits.max_render_pixels / max(1.0, width * height)) ** 0.5)
    image = page.render(scale=scale).to_pil()
    if is_blank(image):
        return OcrPage([])
    return ocr_image(image)


def parse_pdf(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    limits = options.limits
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ParseError("PDF is encrypted and needs a password to open") from exc
        raise ParseError(f"PDF is damaged or unreadable: {exc}") from exc
    try:
        count = len(pdf)
        if count == 0:
            raise ParseError("PDF has no pages")
        if count > limits.max_pages:
            raise ParseError(f"PDF has {count} pages, over the cap of {limits.max_pages}")
        units, flags, ocr_scores = [], [], []
        plumber = None
        for index in range(count):
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                flags.append(f"page {index + 1} could not be read ({exc}); skipped")
                continue
            width, height = page.get_size()
            if max(width, height) > limits.max_page_points:
                raise ParseError(f"PDF page {index + 1} is {width:.0f}×{height:.0f} pt, larger than the "
                                 f"{limits.max_page_points:.0f} pt cap")
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            lines = page_lines(textpage, height)
            blocks = layout_blocks(lines) or _blocks(text)
            hidden, total = _hidden_text_objects(page)
            # a scan carrying an invisible OCR layer: that layer is often garbage, so read the image again
            ocr_layer = total > 0 and hidden >= 0.8 * total and _has_large_image(page, width, height)
            needs_ocr = not text.strip() or ocr_layer or (
                text_quality(text) < 0.5 and _has_large_image(page, width, height))
            if needs_ocr:
                reading = _ocr_page(page, width, height, options)
                ocr_blocks, confidence = reading.blocks, reading.confidence
                if reading.doubted is not None:
                    flags.append(f"page {index + 1}: OCR confidence {reading.doubted:.2f} is too low to trust "
                                 f"(the OCR model reads {OCR_SCRIPTS}); OCR text not kept")
                ocr_text = "\n".join(b.text for b in ocr_blocks)
                if ocr_blocks and (not blocks or confidence >= 0.8 or text_quality(ocr_text) > text_quality(text)):
                    blocks = ocr_blocks
                    ocr_scores.append(confidence)
                    flags.append(f"page {index + 1}: text from OCR (confidence {confidence:.2f})")
                    hidden = 0  # an OCR layer is invisible by design; it was replaced anyway
            elif _count_paths(page) >= MIN_PATHS_FOR_TABLES:
                if plumber is None:
                    plumber = _TableReader(data)
                table_blocks = plumber.page_blocks(index, lines)
                if table_blocks:
                    blocks = table_blocks
                elif plumber.problem and plumber.problem not in " ".join(flags):
                    flags.append(plumber.problem)
            if hidden:
                flags.append(f"page {index + 1}: {hidden} hidden text object(s) (invisible, white or <1 pt)")
            units.append(Unit("page", index + 1, blocks))
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    finally:
        pdf.close()
    meta = {"ocr_confidence": round(sum(ocr_scores) / len(ocr_scores), 4)} if ocr_scores else {}
    document = ParsedDocument(title, units, "pdfium", flags, meta)
    if not document.has_text:
        problems = f" ({'; '.join(flags)})" if flags else ""
        raise ParseError(f"PDF has no text layer and OCR found no text{problems}")
    return document


def _count_paths(page: pdfium.PdfPage) -> int:
    return sum(1 for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=2))
