"""PDF text layer with pypdf, one unit per page so citations can name the page."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A line wrap between two Chinese characters is not a word break: Chinese has no spaces.
_CJK_WRAP = re.compile(r"(?<=[\u3400-\u9fff\uff0c\u3002\u3001\uff1b\uff1a])\n(?=[\u3400-\u9fff])")


def _page_blocks(text: str) -> list[Block]:
    blocks = []
    for para in _PARAGRAPH_BREAK.split(_CJK_WRAP.sub("", text)):
        para = para.strip()
        if para:
            blocks.append(Block(para))
    return blocks


def parse_pdf(data: bytes, name: str) -> ParsedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("PDF is encrypted and does not open without a password")
        pages = list(reader.pages)
    except (PdfReadError, FileNotDecryptedError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"PDF is damaged or unreadable: {exc}") from exc
    if not pages:
        raise ParseError("PDF has no pages")
    units = []
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many types on broken content streams
            raise ParseError(f"PDF page {number} could not be read: {exc}") from exc
        units.append(Unit("page", number, _page_blocks(text)))
    title = ""
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title)
    document = ParsedDocument(title=title, units=units, parser="pypdf")
    if not document.has_text:
        raise ParseError("PDF has no text layer (a scan); OCR is not available in this version")
    return document
