"""HTML with BeautifulSoup: drop scripts and page chrome, keep headings, text, lists and tables."""

from __future__ import annotations

import warnings

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.textcodec import decode_text

_DROP = ["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TEXT_TAGS = {"p", "li", "pre", "blockquote", "dd", "dt", "figcaption", "address"}


def _blocks(root: Tag) -> list[Block]:
    blocks: list[Block] = []
    for element in root.find_all([*_HEADINGS, *_TEXT_TAGS, "table"]):
        if element.find_parent("table") is not None:
            continue  # tables are rendered whole
        if element.name in _TEXT_TAGS and element.find_parent(list(_TEXT_TAGS)) is not None:
            continue  # nested text containers are inside their parent's text
        if element.name == "table":
            rows = [
                [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
                for tr in element.find_all("tr")
            ]
            markdown = table_to_markdown(rows)
            if markdown:
                blocks.append(Block(markdown, "table"))
            continue
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name in _HEADINGS:
            blocks.append(Block(text, "heading", _HEADINGS[element.name]))
        elif element.name == "li":
            blocks.append(Block(f"- {text}", "list"))
        else:
            blocks.append(Block(text, "code" if element.name == "pre" else "paragraph"))
    return blocks


def html_to_blocks(markup: str) -> tuple[str, list[Block]]:
    """(title, blocks) of an HTML or XHTML string, page chrome and scripts removed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML, inline XBRL: read as HTML on purpose
            soup = BeautifulSoup(markup, "lxml")
    except Exception as exc:
        raise ParseError(f"HTML could not be parsed: {exc}") from exc
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(_DROP):
        tag.decompose()
    body = soup.body or soup
    blocks = _blocks(body)
    if not blocks:
        text = body.get_text("\n", strip=True)
        blocks = [Block(line) for line in text.splitlines() if line.strip()]
    return title, blocks


def parse_html(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    title, blocks = html_to_blocks(decode_text(data).text)
    return ParsedDocument(title=title, units=[Unit("section", None, blocks)], parser="beautifulsoup")
