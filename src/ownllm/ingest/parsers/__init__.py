"""One parser module per format family; `parse_file` is what a worker process runs for one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ownllm.ingest.parsed import ParsedDocument, UnsupportedType
from ownllm.ingest.parsers.options import ParseOptions

Parser = Callable[[bytes, str, ParseOptions], ParsedDocument]

IMAGE_TYPES = ("png", "jpeg", "tiff", "webp", "bmp", "gif")
MEDIA_TYPES = ("wav", "mp3", "m4a", "flac", "ogg", "mp4", "mov", "mkv", "webm")
PARSER_PATHS: dict[str, str] = {
    "pdf": "pdf:parse_pdf",
    "docx": "office:parse_docx",
    "pptx": "office:parse_pptx",
    "xlsx": "tabular:parse_xlsx",
    "csv": "tabular:parse_csv",
    "html": "html:parse_html",
    "markdown": "text:parse_markdown",
    "text": "text:parse_text",
    "zip": "archive:parse_zip",
    "eml": "archive:parse_eml",
    "epub": "archive:parse_epub",
    "ole": "archive:parse_ole",
    **{kind: "image_ocr:parse_image" for kind in IMAGE_TYPES},
    **{kind: "media_asr:parse_media" for kind in MEDIA_TYPES},
}
SUPPORTED_TYPES = frozenset(PARSER_PATHS) - {"ole"}


def get_parser(detected_type: str) -> Parser:
    """Import a parser only when needed: OCR and ASR stacks are heavy and most files need neither."""
    target = PARSER_PATHS.get(detected_type)
    if target is None:
        raise UnsupportedType(f"{detected_type} files are not supported")
    module_name, function = target.split(":")
    module = __import__(f"ownllm.ingest.parsers.{module_name}", fromlist=[function])
    return getattr(module, function)


def parse(data: bytes, detected_type: str, name: str, options: ParseOptions | None = None) -> ParsedDocument:
    return get_parser(detected_type)(data, name, options or ParseOptions())


def parse_file(blob_path: str, detected_type: str, name: str, options: ParseOptions) -> ParsedDocument:
    """Worker entry point: read the stored blob and parse it (bytes never cross the process pipe)."""
    return parse(Path(blob_path).read_bytes(), detected_type, name, options)
