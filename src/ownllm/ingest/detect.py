"""Detect a file's type from its bytes, not its name, so a renamed or mislabeled file is parsed right.

The extension is consulted only to tell apart text formats whose bytes look alike
(Markdown vs plain text vs CSV), and a disagreement is reported so the ingest log
can say "x.pdf is really a PNG".
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from ownllm.ingest.textcodec import decode_text

_EXTENSION_TYPES = {
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".html": "html", ".htm": "html",
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".csv": "csv", ".png": "png",
    ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff", ".webp": "webp", ".bmp": "bmp",
    ".gif": "gif", ".wav": "wav", ".mp3": "mp3", ".m4a": "m4a", ".flac": "flac", ".mp4": "mp4",
    ".mov": "mov", ".mkv": "mkv", ".zip": "zip", ".eml": "eml", ".epub": "epub", ".ogg": "ogg",
    ".webm": "webm", ".doc": "doc", ".xls": "xls", ".ppt": "ppt", ".msg": "msg", ".docm": "docx",
    ".xlsm": "xlsx", ".pptm": "pptx", ".odt": "odt", ".ods": "ods", ".odp": "odp", ".rtf": "rtf",
    ".heic": "heic", ".heif": "heic", ".avif": "heic", ".json": "json", ".xml": "xml", ".vtt": "vtt",
    ".srt": "srt", ".exe": "executable", ".dll": "executable",
}
_ODF_TYPES = {b"application/vnd.oasis.opendocument.text": "odt",
              b"application/vnd.oasis.opendocument.spreadsheet": "ods",
              b"application/vnd.oasis.opendocument.presentation": "odp"}
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


@dataclass(frozen=True)
class Detection:
    type: str
    note: str | None = None  # set when the name and the bytes disagree


def _ooxml_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        # truncated: no central directory, but local headers still name the parts
        window = data[:1 << 16]
        for marker, kind in ((b"word/", "docx"), (b"ppt/", "pptx"), (b"xl/", "xlsx")):
            if marker in window:
                return kind
        return "zip"  # a broken zip: the parser will report the damage
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "mimetype" in names:
        mimetype = zipfile.ZipFile(io.BytesIO(data)).read("mimetype").strip()
        if mimetype in _ODF_TYPES:
            return _ODF_TYPES[mimetype]
        if "META-INF/container.xml" in names:
            return "epub"
    return "zip"


def _ole_kind(data: bytes) -> str:
    """Which OLE2 compound file: legacy Word, Excel or PowerPoint, an Outlook message, or an encrypted package."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except Exception:
        return "ole"  # damaged: its parser says so
    if "EncryptedPackage" in streams:
        return "encrypted-office"
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "PowerPoint Document" in streams:
        return "ppt"
    if any(name.startswith("__substg1.0_") for name in streams):
        return "msg"
    return "ole"


def _sniff_binary(data: bytes) -> str | None:
    head = data[:64]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(data)
    signatures = [
        (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"),
        (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"fLaC", "flac"), (b"\x1a\x45\xdf\xa3", "mkv"),
        (b"ID3", "mp3"), (b"OggS", "ogg"), (b"{\\rtf", "rtf"), (b"\x7fELF", "executable"),
    ]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(data)
    if head.startswith(b"MZ") and b"PE\x00\x00" in data[:1024]:
        return "executable"
    for magic, kind in signatures:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if head[8:12] == b"WEBP" else "wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "heic"  # a HEIF/AVIF photo shares MP4's box structure; it is an image, not a video
        return "m4a" if brand.startswith(b"M4A") else "mov" if brand == b"qt  " else "mp4"
    if head[:2] == b"\xff\xfb" or head[:2] == b"\xff\xf3":
        return "mp3"
    if head[:2] == b"BM" and len(data) > 26:
        return "bmp"
    return None


_HEADER = re.compile(r"^[!-9;-~]+:|^[ \t]")  # `Name:` or a folded continuation line


def _is_mail(data: bytes) -> bool:
    """An RFC 822 message: it opens with a block of header lines naming at least two mail headers."""
    header = decode_text(data[:65536]).text.lstrip("\ufeff").replace("\r\n", "\n").split("\n\n", 1)[0]
    lines = header.split("\n")
    if len(lines) < 2 or not all(_HEADER.match(line) for line in lines):
        return False
    names = {line.split(":", 1)[0].lower() for line in lines if not line[:1].isspace()}
    return len(names & {"from", "to", "subject", "date", "mime-version", "message-id", "received"}) >= 2


def _is_json(data: bytes) -> bool:
    import json

    try:
        json.loads(decode_text(data).text)
    except ValueError:
        return False
    return True


def _sniff_text(data: bytes, extension_type: str | None) -> str:
    text = decode_text(data[:8192]).text.lstrip("\ufeff").lstrip()
    lowered = text[:2048].lower()
    if lowered.startswith(("<!doctype html", "<html", "<?xml")) and "<html" in lowered:
        return "html"
    if text.startswith("WEBVTT"):
        return "vtt"
    if re.match(r"\d+\s*\r?\n\d\d:\d\d:\d\d[,.]\d{3} --> \d\d:\d\d:\d\d[,.]\d{3}", text):
        return "srt"
    if text[:1] in "{[" and _is_json(data):
        return "json"
    if lowered.startswith("<?xml") or (text.startswith("<") and extension_type == "xml"):
        return "xml"
    if extension_type in ("markdown", "csv", "eml"):
        return extension_type  # e.g. Markdown whose code fences hold HTML stays Markdown
    if "<html" in lowered or "<body" in lowered:
        return "html"
    if _is_mail(data):
        return "eml"
    if any(line.startswith(("# ", "## ", "### ")) for line in text.splitlines()[:50]):
        return "markdown"
    return "text"


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample and not (sample.startswith((b"\xff\xfe", b"\xfe\xff"))):
        # UTF-16 without a BOM also has NULs; decode_text decides that case.
        return decode_text(sample).encoding is None
    return False


def detect_type(data: bytes, name: str) -> Detection:
    extension_type = _EXTENSION_TYPES.get(PurePath(name).suffix.lower())
    if not data:
        return Detection("empty")
    kind = _sniff_binary(data)
    if kind is None:
        kind = "binary" if _looks_binary(data) else _sniff_text(data, extension_type)
    note = None
    text_family = {"text", "markdown", "csv"}
    if extension_type and extension_type != kind and not (
        kind in text_family and extension_type in text_family
    ):
        note = f"name says {extension_type} but the content is {kind}"
    return Detection(kind, note)
