"""HTML with BeautifulSoup: drop scripts and page chrome, keep headings, text, lists and tables.

Page chrome is recognised the way reader modes do it, from signals any site gives, never per site:
landmark tags and ARIA roles (nav, header, footer, aside, banner, contentinfo…), class and id words
(menu, sidebar, share, breadcrumb, cookie, related…) on elements that hold a minor share of the page's
text, and link lists (blocks whose text is mostly link text). When a page marks its main content
(`<main>`, `role=main`, a single `<article>`) and that holds most of the prose, only it is read.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit, table_to_markdown
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.textcodec import decode_text

_DROP = ["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe", "button",
         "select", "svg"]
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog",
                 "alert", "toolbar"}
_CHROME_WORDS = re.compile(r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|breadcrumbs?|footer|sidebar|share|sharing|"
                           r"social|related|promo|cookies?|banner|advert|ads|sponsor|subscribe|newsletter|skip|"
                           r"masthead|comments?|pagination|pager|toolbar|widget|tags)(?:$|[-_\s])", re.IGNORECASE)
MAX_CHROME_SHARE = 0.5  # an element holding half the page's text or more is content, whatever its class
MIN_LINK_LIST_CHARS = 20
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TEXT_TAGS = {"p", "li", "pre", "blockquote", "dd", "dt", "figcaption", "address"}


_INLINE = {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i", "img",
           "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
           "time", "tt", "u", "var", "wbr", "br"}
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")


def _blocks(root: Tag) -> list[Block]:
    """Blocks in document order: headings, text elements and tables whole, and the loose text that pages put
    straight into containers (`<div>Hi Jane,<br><br>…</div>`, common in mail and older sites) as paragraphs."""
    blocks: list[Block] = []
    _collect(root, blocks)
    return blocks


def _collect(container: Tag, blocks: list[Block]) -> None:
    pending: list[str] = []

    def flush() -> None:
        text = "".join(pending)
        pending.clear()
        for paragraph in re.split(r"\n\s*\n", text):
            lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
            if lines:
                blocks.append(Block("\n".join(lines)))

    for child in container.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, CDATA or doctype
                pending.append(_SPACES.sub(" ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        if child.name in _INLINE and child.find(_BLOCK_LEVEL) is None:
            pending.append(_inline_text(child))
            continue
        flush()
        block = _element_block(child)
        if block is not None:
            if block.text:
                blocks.append(block)
        else:
            _collect(child, blocks)
    flush()


_BLOCK_LEVEL = [*("h1", "h2", "h3", "h4", "h5", "h6"), "p", "li", "pre", "blockquote", "dd", "dt", "figcaption",
                "address", "table", "div", "section", "article", "ul", "ol", "dl"]


def _inline_text(element: Tag) -> str:
    if element.name == "br":
        return "\n"
    parts = []
    for child in element.children:
        if isinstance(child, Tag):
            parts.append(_inline_text(child))
        elif type(child) is NavigableString:
            parts.append(_SPACES.sub(" ", str(child)))
    return "".join(parts)


def _element_block(element: Tag) -> Block | None:
    """The block a heading, text element or table makes (empty text: nothing to keep), None for a container."""
    if element.name == "table":
        rows = [[cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
                for tr in element.find_all("tr")]
        return Block(table_to_markdown(rows), "table")
    if element.name in _HEADINGS:
        return Block(element.get_text(" ", strip=True), "heading", _HEADINGS[element.name])
    if element.name not in _TEXT_TAGS:
        return None
    text = element.get_text(" ", strip=True)
    if element.name == "li":
        return Block(f"- {text}" if text else "", "list")
    return Block(text, "code" if element.name == "pre" else "paragraph")


def _text_size(element: Tag) -> int:
    return len(element.get_text(" ", strip=True))


def _drop_chrome(body: Tag) -> None:
    total = max(1, _text_size(body))
    for element in list(body.find_all(True)):
        if element.decomposed or element.name in ("html", "body", "main", "article"):
            continue
        role = str(element.get("role") or "").lower()
        words = " ".join([*(element.get("class") or []), str(element.get("id") or "")])
        size = _text_size(element)
        if role in _CHROME_ROLES or (_CHROME_WORDS.search(words) and size <= MAX_CHROME_SHARE * total
                                     and element.find(["main", "article"]) is None):
            element.decompose()
        elif element.name in ("ul", "ol", "div", "section", "table") and size >= MIN_LINK_LIST_CHARS:
            linked = sum(len(a.get_text(" ", strip=True)) for a in element.find_all("a"))
            if linked >= 0.7 * size and size <= MAX_CHROME_SHARE * total:
                element.decompose()  # a menu or list of links, not prose


def _main_content(body: Tag) -> Tag:
    """The element the page marks as its main content, when it holds most of the page's text."""
    candidates = body.find_all("main") + body.find_all(attrs={"role": "main"})
    articles = body.find_all("article")
    if not candidates and len(articles) == 1:
        candidates = articles
    total = max(1, _text_size(body))
    for candidate in candidates:
        if _text_size(candidate) >= 0.5 * total:
            return candidate
    return body


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
    _drop_chrome(body)
    blocks = _blocks(_main_content(body))
    if not blocks:
        text = body.get_text("\n", strip=True)
        blocks = [Block(line) for line in text.splitlines() if line.strip()]
    return title, blocks


def parse_html(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    title, blocks = html_to_blocks(decode_text(data).text)
    return ParsedDocument(title=title, units=[Unit("section", None, blocks)], parser="beautifulsoup")
