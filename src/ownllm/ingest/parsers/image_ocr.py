"""OCR with rapidocr (PP-OCR models shipped in its wheel): Chinese and English, lines in reading order.

Boxes come back in detection order; they are regrouped into lines by vertical overlap
and read left to right. A page OCRs at its stated orientation first; when the result is
weak (few characters or low confidence) the 90° and 270° turns are tried too, which
rescues scans fed sideways. Near-empty images (blank, tiny) are refused before OCR.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit
from ownllm.ingest.parsers.options import ParseOptions

_engine = None
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass
class OcrLine:
    text: str
    score: float
    top: float
    left: float


@dataclass
class OcrPage:
    lines: list[OcrLine]

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


def _read(image: Image.Image) -> OcrPage:
    result = _get_engine()(np.asarray(image.convert("RGB")))
    if result.boxes is None or not result.txts:
        return OcrPage([])
    items = []
    for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        ys, xs = [p[1] for p in box], [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), text.strip(), float(score)))
    items.sort(key=lambda item: (item[0], item[2]))
    lines: list[list[tuple]] = []
    for item in items:
        if lines:
            top, bottom = min(i[0] for i in lines[-1]), max(i[1] for i in lines[-1])
            overlap = min(bottom, item[1]) - max(top, item[0])
            if overlap > 0.5 * min(bottom - top, item[1] - item[0]):
                lines[-1].append(item)
                continue
        lines.append([item])
    out = []
    for group in lines:
        parts = [OcrLine(t, s, top, left) for top, _, left, t, s in group if t]
        if parts:
            score = sum(p.score for p in parts) / len(parts)
            out.append(OcrLine(_join(parts), score, parts[0].top, min(p.left for p in parts)))
    return OcrPage(out)


def ocr_image(image: Image.Image) -> OcrPage:
    """OCR one page image, trying sideways turns when the upright reading is weak."""
    best = _read(image)
    if len(best.text) < 40 or best.confidence < 0.85:
        for angle in (90, 270):
            turned = _read(image.rotate(angle, expand=True))
            if turned.quality > best.quality * 1.3:
                best = turned
    return best


def is_blank(image: Image.Image) -> bool:
    if image.width < 16 or image.height < 16:
        return True
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    return float(grey.std()) < 4.0


def parse_image(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    Image.MAX_IMAGE_PIXELS = options.limits.max_image_pixels
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except Image.DecompressionBombError as exc:
        raise ParseError(f"image is too large to decode safely: {exc}") from exc
    except Exception as exc:
        raise ParseError(f"image is damaged or unreadable: {exc}") from exc
    units, scores, blank = [], [], 0
    for number, frame in enumerate(ImageSequence.Iterator(picture), start=1):
        frame = ImageOps.exif_transpose(frame.copy())
        if is_blank(frame):
            blank += 1
            continue
        page = ocr_image(frame)
        if page.lines:
            scores.append(page.confidence)
            units.append(Unit("page", number, [Block(line.text) for line in page.lines]))
    if not units:
        reason = "image is blank or too small to hold text" if blank else "no text found in the image by OCR"
        raise ParseError(reason)
    confidence = round(sum(scores) / len(scores), 4)
    return ParsedDocument("", units, "rapidocr", [f"text from OCR (mean confidence {confidence:.2f})"],
                          {"ocr_confidence": confidence})
