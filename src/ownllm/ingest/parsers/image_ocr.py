"""OCR with rapidocr (PP-OCR models shipped in its wheel): Chinese and English, lines in reading order.

Boxes come back in detection order; they are regrouped into lines by vertical overlap
and read left to right. Tables are found in the page image (see `ocr_tables`) after
the page is deskewed by the slope of its text boxes, and their text is placed in cells
and written as a Markdown table; everything else stays lines. A page OCRs at
its stated orientation first; when the result is weak (few characters or low
confidence) the 90° and 270° turns are tried too, which rescues scans fed sideways.
Near-empty images (blank, tiny) are refused before OCR.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from ownllm.ingest.layout import Line, bands, paragraphs, reading_order
from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_cells, table_to_markdown
from ownllm.ingest.parsers.ocr_tables import TableGrid, TextBox, fill, find_tables, group_lines
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.text import UNSPACED_CLASS

_engine = None
_CJK = re.compile(f"[{UNSPACED_CLASS}]")


@dataclass
class OcrLine:
    text: str
    score: float
    top: float
    left: float


@dataclass
class OcrPage:
    lines: list[OcrLine]
    blocks: list[Block] = field(default_factory=list)  # the lines as paragraphs, with tables rebuilt
    tables: int = 0
    doubted: float | None = None  # set (to the mean confidence) when a reading was too unsure to keep
    raw_confidence: float = 1.0  # mean confidence of every box read, before unsure boxes were dropped

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        if not self.lines:
            return 0.0
        weights = [len(line.text) for line in self.lines]
        return sum(line.score * w for line, w in zip(self.lines, weights, strict=True)) / sum(weights)

    @property
    def quality(self) -> float:
        return len("".join(line.text for line in self.lines)) * self.confidence


def _get_engine():
    global _engine
    if _engine is None:
        import logging

        from rapidocr import RapidOCR

        _engine = RapidOCR(params={"Global.log_level": "error"})
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return _engine


def _join(parts: list[OcrLine]) -> str:
    text = ""
    for part in sorted(parts, key=lambda p: p.left):
        if text and not (_CJK.search(text[-1]) and _CJK.search(part.text[:1])):
            text += " "
        text += part.text
    return text


@dataclass
class _Box(TextBox):
    score: float = 0.0


def _lines(boxes: list[TextBox]) -> list[OcrLine]:
    """Boxes into lines, each read left to right, with the line's mean confidence."""
    out = []
    for group in group_lines(boxes):
        parts = [OcrLine(b.text, getattr(b, "score", 1.0), b.top, b.left) for b in group if b.text]
        if parts:
            score = sum(p.score for p in parts) / len(parts)
            out.append(OcrLine(_join(parts), score, parts[0].top, min(p.left for p in parts)))
    return out


def _skew_degrees(quads: list) -> float:
    """The page's tilt: the median slope of the top edges of wide text boxes."""
    angles = [math.degrees(math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0])) for q in quads
              if q[1][0] - q[0][0] > 3 * abs(q[3][1] - q[0][1])]
    return float(np.median(angles)) if angles else 0.0


def _deskewed(image: Image.Image, quads: list, degrees: float) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """The greyscale page turned upright, and each box's bounds (left, top, right, bottom) on it."""
    grey = image.convert("L")
    if abs(degrees) >= 0.15:
        grey = grey.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
    cx, cy = image.width / 2, image.height / 2
    sin, cos = math.sin(math.radians(degrees)), math.cos(math.radians(degrees))
    bounds = []
    for quad in quads:
        points = [(cx + (x - cx) * cos + (y - cy) * sin, cy - (x - cx) * sin + (y - cy) * cos) for x, y in quad]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        bounds.append((min(xs), min(ys), max(xs), max(ys)))
    return np.asarray(grey, dtype=np.float32), bounds


def _cell_text(boxes: list[TextBox]) -> str:
    return _join([OcrLine(line.text, 1.0, 0.0, float(i)) for i, line in enumerate(_lines(boxes))])


def _read(image: Image.Image) -> OcrPage:
    result = _get_engine()(np.asarray(image.convert("RGB")))
    if result.boxes is None or not result.txts:
        return OcrPage([])
    quads = [[(float(x), float(y)) for x, y in box] for box in result.boxes]
    grey, bounds = _deskewed(image, quads, _skew_degrees(quads))
    boxes = [_Box(text.strip(), *bound, score=float(score))
             for bound, text, score in zip(bounds, result.txts, result.scores, strict=True)]
    raw_confidence = sum(b.score * len(b.text) for b in boxes) / max(1, sum(len(b.text) for b in boxes))
    unsure = [box for box in boxes if box.score < MIN_BOX_CONFIDENCE]
    if len(unsure) < len(boxes):  # (a page of nothing but unsure boxes is kept whole, to be judged as a page)
        boxes = [box for box in boxes if box.score >= MIN_BOX_CONFIDENCE]
    lines = _lines(boxes)
    tables: list[TableGrid] = sorted(find_tables(grey, [b for b in boxes if b.text]), key=lambda t: t.ys[0])
    loose = [b for b in boxes if b.text and not any(t.contains(*b.center) for t in tables)]
    # text outside the tables is read in columns (see ingest/layout.py), a table between the text above and below
    # (OCR boxes are whole lines or phrases already: not merged, as two columns' lines can sit a few pixels apart)
    around = bands([Line(b.text, b.left, b.top, b.right, b.bottom) for b in loose],
                   [(t.xs[0], t.ys[0], t.xs[-1], t.ys[-1]) for t in tables])
    blocks = _paragraph_blocks(around[0])
    count = 0
    for table, band in zip(tables, around[1:], strict=True):
        inside = [b for b in boxes if b.text and table.contains(*b.center)]
        rows = table_cells(fill(table, inside, _cell_text))
        filled = sum(1 for row in rows for cell in row if cell)
        if rows and filled <= 0.5 * len(rows) * len(rows[0]):
            # mostly empty: lines in a photo (signs, frames) taken for rules; its text is read as lines
            blocks += _paragraph_blocks(bands([Line(b.text, b.left, b.top, b.right, b.bottom) for b in inside],
                                              [])[0])
            blocks += _paragraph_blocks(band)
            continue
        markdown = table_to_markdown(rows) if rows else ""
        if markdown:
            blocks.append(Block(markdown, "table" if "\n|---" in markdown else "paragraph"))
            count += "\n|---" in markdown
        blocks += _paragraph_blocks(band)
    return OcrPage(lines, blocks, count, raw_confidence=raw_confidence)


def _paragraph_blocks(lines: list[Line]) -> list[Block]:
    return [Block(text) for column in reading_order(lines) for text in paragraphs(column)]


def ocr_image(image: Image.Image) -> OcrPage:
    """OCR one page image, trying sideways turns when the upright reading is weak.

    A reading the model itself doubts is not kept: boxes under MIN_BOX_CONFIDENCE are dropped, and a page
    whose mean confidence is under MIN_PAGE_CONFIDENCE (typically a script the model does not read, such as
    Hebrew or Korean to the Chinese-English model, or handwriting) comes back empty with `doubted` set.
    """
    best = _read(image)
    if len(best.text) < 40 or best.confidence < 0.85:
        for angle in (90, 270):
            turned = _read(image.rotate(angle, expand=True))
            if turned.quality > best.quality * 1.3:
                best = turned
    if best.lines and best.raw_confidence < MIN_PAGE_CONFIDENCE:
        return OcrPage([], doubted=best.raw_confidence)
    return best


MIN_PAGE_CONFIDENCE = 0.8
MIN_BOX_CONFIDENCE = 0.75
OCR_SCRIPTS = "Chinese and English"  # what the PP-OCR model in the rapidocr wheel reads


def is_blank(image: Image.Image) -> bool:
    if image.width < 16 or image.height < 16:
        return True
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    return float(grey.std()) < 4.0


def parse_image(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    Image.MAX_IMAGE_PIXELS = options.limits.max_image_pixels
    if data[4:8] == b"ftyp":  # HEIF/HEIC/AVIF: phones' photos; decoded by libheif (pi-heif, LGPL, no encoder)
        try:
            import pi_heif
        except ImportError as exc:
            raise ParseError("HEIC/HEIF photos need the pi-heif package, which is not installed") from exc
        pi_heif.register_heif_opener()
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except Image.DecompressionBombError as exc:
        raise ParseError(f"image is too large to decode safely: {exc}") from exc
    except Exception as exc:
        raise ParseError(f"image is damaged or unreadable: {exc}") from exc
    units, scores, blank, doubted = [], [], 0, []
    for number, frame in enumerate(ImageSequence.Iterator(picture), start=1):
        frame = ImageOps.exif_transpose(frame.copy())
        if is_blank(frame):
            blank += 1
            continue
        page = ocr_image(frame)
        if page.doubted is not None:
            doubted.append(f"page {number}: OCR confidence {page.doubted:.2f} is too low to trust, text not kept")
        if page.lines:
            scores.append(page.confidence)
            units.append(Unit("page", number, page.blocks))
    if not units:
        if doubted:
            raise ParseError(f"OCR could not read this image reliably ({'; '.join(doubted)}); the OCR model reads "
                             f"{OCR_SCRIPTS}, so another script or handwriting is not transcribed")
        raise ParseError("image is blank or too small to hold text" if blank else "no text found in the image by OCR")
    confidence = round(sum(scores) / len(scores), 4)
    return ParsedDocument("", units, "rapidocr", [f"text from OCR (mean confidence {confidence:.2f})", *doubted],
                          {"ocr_confidence": confidence})
