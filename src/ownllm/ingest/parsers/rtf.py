"""RTF with `striprtf`: the text, in the code page the file declares (`\\ansicpgN`), not raw markup.

striprtf skips every RTF "destination" it does not render, including the ones a reader sees on the
page: headers and footers, footnotes, comments and text boxes. Those are read here too; shape
fallback pictures (`shprslt`, a copy of the text box for old readers) stay skipped so nothing is
read twice. Table rows, which striprtf ends with "|", become a Markdown table.
"""

from __future__ import annotations

import re

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.options import ParseOptions

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
# destinations that hold text a reader sees; striprtf would drop them
VISIBLE_DESTINATIONS = frozenset({
    "header", "headerf", "headerl", "headerr", "footer", "footerf", "footerl", "footerr", "footnote",
    "annotation", "shp", "shpgrp", "shpinst", "shptxt", "dptxbxtext",
})
# `{\*\shpinst …}` marks a group "skip if unknown"; for these the mark is dropped so their text is read
_STARRED_VISIBLE = re.compile(r"\\\*(?=\\(?:" + "|".join(sorted(VISIBLE_DESTINATIONS)) + r")(?![a-z]))")
_TABLE_ROW = re.compile(r"^[^\n]*\|\s*$")


def parse_rtf(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    from striprtf import striprtf

    found = _CODEPAGE.search(data[:4096])
    encoding = f"cp{found.group(1).decode()}" if found else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        encoding = "cp1252"
    striprtf.destinations = striprtf.destinations - VISIBLE_DESTINATIONS
    try:
        source = _STARRED_VISIBLE.sub("", data.decode("latin-1"))
        text = striprtf.rtf_to_text(source, encoding=encoding, errors="replace")
    except Exception as exc:
        raise ParseError(f"RTF could not be read: {exc}") from exc
    # characters outside the BMP are written as two \u surrogate halves; join them, drop strays
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    blocks = _blocks([line.strip() for line in text.split("\n")])
    if not blocks:
        raise ParseError("RTF holds no text")
    return ParsedDocument("", [Unit("section", None, blocks)], "striprtf")


def _blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    rows: list[list[str]] = []
    for line in [*lines, ""]:
        if _TABLE_ROW.match(line) and line.strip() != "|":
            rows.append([cell.strip() for cell in line.rstrip().rstrip("|").split("|")])
            continue
        if rows:
            markdown = table_to_markdown(rows)
            if markdown:
                blocks.append(Block(markdown, "table" if "\n|---" in markdown else "paragraph"))
            rows = []
        if line:
            blocks.append(Block(line))
    return blocks
