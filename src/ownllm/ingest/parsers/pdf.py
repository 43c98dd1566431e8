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

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.image_ocr import is_blank, ocr_image
from ownllm.ingest.parsers.options import ParseOptions

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


def _table_page_blocks(plumber_page: object) -> list[Block] | None:
    """Text and tables of one page in vertical order, or None when pdfplumber finds no table."""
    tables = sorted(plumber_page.find_tables(), key=lambda t: t.bbox[1])  # type: ignore[attr-defined]
    if not tables:
        return None
    blocks: list[Block] = []
    width, height = plumber_page.width, plumber_page.height  # type: ignore[attr-defined]
    cursor = 0.0
    for table in tables:
        _, top, _, bottom = table.bbox
        if top > cursor:
            blocks += _blocks(plumber_page.crop((0, cursor, width, top)).extract_text() or "")  # type: ignore[attr-defined]
        rows = [[cell or "" for cell in row] for row in table.extract()]
        markdown = table_to_markdown(rows)
        if markdown:
            blocks.append(Block(markdown, "table"))
        cursor = max(cursor, bottom)
    if cursor < height:
        blocks += _blocks(plumber_page.crop((0, cursor, width, height)).extract_text() or "")  # type: ignore[attr-defined]
    return blocks


def _ocr_page(page: pdfium.PdfPage, width: float, height: float, options: ParseOptions) -> tuple[list[Block], float]:
    scale = min(2.5, (options.limits.max_render_pixels / max(1.0, width * height)) ** 0.5)
    image = page.render(scale=scale).to_pil()
    if is_blank(image):
        return [], 0.0
    result = ocr_image(image)
    return result.blocks, result.confidence


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
            text = page.get_textpage().get_text_bounded()
            blocks = _blocks(text)
            hidden, total = _hidden_text_objects(page)
            # a scan carrying an invisible OCR layer: that layer is often garbage, so read the image again
            ocr_layer = total > 0 and hidden >= 0.8 * total and _has_large_image(page, width, height)
            needs_ocr = not text.strip() or ocr_layer or (
                text_quality(text) < 0.5 and _has_large_image(page, width, height))
            if needs_ocr:
                ocr_blocks, confidence = _ocr_page(page, width, height, options)
                ocr_text = "\n".join(b.text for b in ocr_blocks)
                if ocr_blocks and (not blocks or confidence >= 0.8 or text_quality(ocr_text) > text_quality(text)):
                    blocks = ocr_blocks
                    ocr_scores.append(confidence)
                    flags.append(f"page {index + 1}: text from OCR (confidence {confidence:.2f})")
                    hidden = 0  # an OCR layer is invisible by design; it was replaced anyway
            elif _count_paths(page) >= MIN_PATHS_FOR_TABLES:
                if plumber is None:
                    import pdfplumber

                    plumber = pdfplumber.open(io.BytesIO(data))
                table_blocks = _table_page_blocks(plumber.pages[index])
                if table_blocks:
                    blocks = table_blocks
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
