"""One parser module per format family; `parse` dispatches on the detected type."""

from __future__ import annotations

from collections.abc import Callable

from ownllm.ingest.parsed import ParsedDocument, UnsupportedType
from ownllm.ingest.parsers import html, office, pdf, text

Parser = Callable[[bytes, str], ParsedDocument]

PARSERS: dict[str, Parser] = {
    "pdf": pdf.parse_pdf,
    "docx": office.parse_docx,
    "html": html.parse_html,
    "markdown": text.parse_markdown,
    "text": text.parse_text,
}


def parse(data: bytes, detected_type: str, name: str) -> ParsedDocument:
    parser = PARSERS.get(detected_type)
    if parser is None:
        raise UnsupportedType(f"{detected_type} files are not supported yet (no parser for this type)")
    return parser(data, name)
