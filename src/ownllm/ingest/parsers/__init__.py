"""One parser module per format family; `parse_file` is what a worker process runs for one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ownllm.ingest.parsed import ParsedDocument, UnsupportedType
from ownllm.ingest.parsers.options import ParseOptions

Parser = Callable[[bytes, str, ParseOptions], ParsedDocument]

IMAGE_TYPES = ("png", "jpeg", "tiff", "webp", "bmp", "gif", "heic")
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
    "doc": "legacy:parse_doc",
    "xls": "legacy:parse_xls",
    "ppt": "legacy:parse_ppt",
    "msg": "legacy:parse_msg",
    "encrypted-office": "legacy:parse_encrypted_office",
    "ole": "legacy:parse_unknown_ole",
    "odt": "odf:parse_odf",
    "ods": "odf:parse_odf",
    "odp": "odf:parse_odf",
    "rtf": "rtf:parse_rtf",
    "json": "markup:parse_json",
    "xml": "markup:parse_xml",
    "vtt": "markup:parse_subtitles",
    "srt": "markup:parse_subtitles",
    **{kind: "image_ocr:parse_image" for kind in IMAGE_TYPES},
    **{kind: "media_asr:parse_media" for kind in MEDIA_TYPES},
}
SUPPORTED_TYPES = frozenset(PARSER_PATHS)
# what to say instead of "not supported" for what is not a document at all
REFUSALS = {
    "executable": "executable programs are not documents; nothing to ingest",
    "binary": "unrecognized binary data (not a document format ownllm reads); nothing to ingest",
}


def get_parser(detected_type: str) -> Parser:
    """Import a parser only when needed: OCR and ASR stacks are heavy and most files need neither."""
    target = PARSER_PATHS.get(detected_type)
    if target is None:
        raise UnsupportedType(f"{detected_type} files are not supported")
    module_name, function = target.split(":")
    module = __import__(f"ownllm.ingest.parsers.{module_name}", fromlist=[function])
    return getattr(module, function)


def parse(data: bytes, detected_type: str, name: str, options: ParseOptions | None = None) -> ParsedDocument:
    document = get_parser(detected_type)(data, name, options or ParseOptions())
    document.title = valid_unicode(document.title)
    for unit in document.units:
        for block in unit.blocks:
            block.text = valid_unicode(block.text)
    return document


def valid_unicode(text: str) -> str:
    """Surrogate halves that formats store separately (RTF \\u, UTF-16 fields) joined into one character, and
    any left unpaired replaced: such text cannot be stored or sent as UTF-8."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def parse_file(blob_path: str, detected_type: str, name: str, options: ParseOptions) -> ParsedDocument:
    """Worker entry point: read the stored blob and parse it (bytes never cross the process pipe)."""
    return parse(Path(blob_path).read_bytes(), detected_type, name, options)
