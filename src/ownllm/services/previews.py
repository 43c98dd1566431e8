"""What a chunk looked like in its original file: the PDF page as an image, the slide drawn from its shapes,
the sheet as a table, the moment in a recording, the picture itself. Rendered images are cached under the
home by content hash, so a page is drawn once however often it is opened."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ownllm.errors import InvalidInput, NotFound
from ownllm.services.browse import chunk_row
from ownllm.store.catalog import Chunk, File
from ownllm.store.home import Home

AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "flac": "audio/flac", "ogg": "audio/ogg"}
VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska"}
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp"}
MAX_ROWS, MAX_COLUMNS = 60, 20
log = logging.getLogger(__name__)


@dataclass
class Preview:
    kind: str  # image | table | audio | video | none
    media_type: str | None = None
    start_s: int | None = None
    rows: list[list[str]] = field(default_factory=list)
    sheet: str | None = None


def media_type(detected_type: str) -> str:
    return {**AUDIO_TYPES, **VIDEO_TYPES, **IMAGE_TYPES, "pdf": "application/pdf"}.get(
        detected_type, "application/octet-stream")


def describe_preview(home: Home, chunk: Chunk, file: File) -> Preview:
    """How the console shows the chunk's place in the original (images come from `preview_image`)."""
    kind = file.detected_type
    if kind in ("pdf", "pptx") and chunk.unit_number is not None:
        return Preview("image", "image/png")
    if kind in IMAGE_TYPES:
        return Preview("image", IMAGE_TYPES[kind])
    if kind in AUDIO_TYPES or kind in VIDEO_TYPES:
        return Preview("audio" if kind in AUDIO_TYPES else "video", media_type(kind), start_s=chunk.unit_number or 0)
    if kind in ("xlsx", "csv") and home.blobs.exists(file.sha256):
        try:
            sheet, rows = _sheet_rows(home.blobs.path_for(file.sha256), kind, chunk.unit_label, chunk.unit_number)
        except Exception:  # a workbook the parser read but openpyxl will not open: the text view still shows it
            log.warning("no sheet preview for %s", file.id, exc_info=True)
            return Preview("none")
        return Preview("table", rows=rows, sheet=sheet)
    return Preview("none")


def preview_image(home: Home, tenant_id: str, chunk_id: str) -> tuple[bytes, str]:
    """The image to show for a chunk: its PDF page or slide rendered to PNG, or the original picture."""
    chunk, _, file = chunk_row(home, tenant_id, chunk_id)
    kind, sha = file.detected_type, file.sha256
    original = home.blobs.path_for(sha)
    if kind in IMAGE_TYPES:
        if not original.is_file():
            raise NotFound(f"{file.original_name}: its bytes are no longer stored", param="chunk_id")
        return original.read_bytes(), IMAGE_TYPES[kind]
    number = chunk.unit_number or 1
    cached = preview_folder(home, sha) / f"{sha}-{number}.png"
    if kind not in ("pdf", "pptx"):
        raise InvalidInput(f"{file.original_name}: a {kind} file has no page image", param="chunk_id")
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        try:
            image = _pdf_page(original, number) if kind == "pdf" else _slide(original, number)
        except Exception as exc:
            raise InvalidInput(f"{file.original_name}: page {number} could not be drawn "
                               f"({type(exc).__name__})", param="chunk_id") from exc
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(image)
        tmp.replace(cached)
    return cached.read_bytes(), "image/png"


def preview_folder(home: Home, sha256: str) -> Path:
    return home.root / "previews" / sha256[:2]


def forget_previews(home: Home, sha256: str) -> int:
    """Delete a file's rendered pages (when its bytes are deleted: a preview must not outlive the file)."""
    removed = 0
    for image in preview_folder(home, sha256).glob(f"{sha256}-*.png"):
        image.unlink(missing_ok=True)
        removed += 1
    return removed


def _pdf_page(path: Path, number: int) -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        page = document[min(max(number, 1), len(document)) - 1]
        bitmap = page.render(scale=1.4)
        out = io.BytesIO()
        bitmap.to_pil().save(out, "PNG", optimize=True)
        return out.getvalue()
    finally:
        document.close()


def _slide(path: Path, number: int) -> bytes:
    """The slide's layout: every shape's box at its place, with its text (a picture of the words where
    they sit on the slide, not a pixel-exact rendering, which would need an office suite)."""
    from PIL import Image, ImageDraw
    from pptx import Presentation

    deck = Presentation(str(path))
    slide = deck.slides[min(max(number, 1), len(deck.slides)) - 1]
    width_emu, height_emu = deck.slide_width or 9144000, deck.slide_height or 6858000
    scale = 960 / width_emu
    image = Image.new("RGB", (960, int(height_emu * scale)), "white")
    draw = ImageDraw.Draw(image)
    font = _font(18)
    for shape in slide.shapes:
        if shape.left is None or shape.top is None:
            continue
        box = [int(shape.left * scale), int(shape.top * scale), int((shape.left + (shape.width or 0)) * scale),
               int((shape.top + (shape.height or 0)) * scale)]
        draw.rectangle(box, outline="#b8c4d6")
        text = shape.text_frame.text if getattr(shape, "has_text_frame", False) and shape.has_text_frame else ""
        if not text and getattr(shape, "has_table", False) and shape.has_table:
            text = "\n".join(" | ".join(cell.text for cell in row.cells) for row in shape.table.rows)
        y = box[1] + 4
        for line in text.splitlines():
            for start in range(0, max(len(line), 1), 60):
                if y > box[3] - 10 and y > box[1] + 4:
                    break
                draw.text((box[0] + 6, y), line[start:start + 60], fill="#1b2433", font=font)
                y += 24
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _font(size: int) -> Any:
    from PIL import ImageFont

    from ownllm.apps.sketch import find_font

    try:
        return ImageFont.truetype(find_font(cjk=True), size)
    except (RuntimeError, OSError):  # no CJK font on this machine: Latin text still shows
        return ImageFont.load_default(size)


def _sheet_rows(path: Path, kind: str, label: str | None, number: int | None) -> tuple[str | None, list[list[str]]]:
    if kind == "csv":
        text = path.read_bytes()[:1 << 20].decode("utf-8", errors="replace")
        return label, [row[:MAX_COLUMNS] for row in list(csv.reader(io.StringIO(text)))[:MAX_ROWS]]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)  # blobs have no extension
    try:
        names = book.sheetnames
        name = label if label in names else names[min(max(number or 1, 1), len(names)) - 1]
        rows = []
        for row in book[name].iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True):
            rows.append(["" if value is None else str(value) for value in row])
        return name, rows
    finally:
        book.close()
