"""Plain text and Markdown: decode whatever the encoding, split into headings and paragraphs."""

from __future__ import annotations

import re

from ownllm.ingest.parsed import Block, ParsedDocument, Unit
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.textcodec import decode_text

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")


def _paragraphs(text: str) -> list[Block]:
    return [Block(p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def parse_text(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    text = decode_text(data).text
    return ParsedDocument(title="", units=[Unit("section", None, _paragraphs(text))], parser="text")


def parse_markdown(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """Headings become heading blocks; fenced code stays verbatim (its markup is not parsed)."""
    text = decode_text(data).text
    blocks: list[Block] = []
    buffer: list[str] = []
    in_fence = False

    def flush(kind: str = "paragraph") -> None:
        if buffer:
            joined = "\n".join(buffer).strip()
            if joined:
                blocks.append(Block(joined, kind))
            buffer.clear()

    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            if in_fence:
                buffer.append(line)
                flush("code")
            else:
                flush()
                buffer.append(line)
            in_fence = not in_fence
            continue
        if in_fence:
            buffer.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append(Block(heading.group(2), "heading", len(heading.group(1))))
        elif not line.strip():
            flush()
        else:
            buffer.append(line)
    flush("code" if in_fence else "paragraph")
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    return ParsedDocument(title=title, units=[Unit("section", None, blocks)], parser="markdown")
