"""How close extracted text is to a reference text: a normalized word-level edit similarity.

Markdown syntax, case, punctuation and whitespace are ignored so that the measure
compares *content*, not formatting; Chinese/Japanese/Korean characters count as words.
Used by the real-document tests and by bench/ingest.py.
"""

from __future__ import annotations

import json
import re
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

from ownllm.text import UNSPACED_CLASS

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_CJK_CHAR = re.compile(f"([{UNSPACED_CLASS}])")
_MD_SYNTAX = re.compile(r"^\s{0,3}(#{1,6}|[-*+]|\d+\.|>)\s+|[*_`|]+|!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)",
                        re.MULTILINE)


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    text = _MD_SYNTAX.sub(lambda m: m.group(2) or " ", text)
    text = _CJK_CHAR.sub(r" \1 ", text)
    return [w.lower() for w in _WORDS.findall(text)]


def similarity(extracted: str, reference: str) -> float:
    """1.0 for the same words in the same order, 0.0 for nothing in common."""
    a, b = words(extracted), words(reference)
    if not a and not b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return 2.0 * sum(block.size for block in matcher.get_matching_blocks()) / (len(a) + len(b))


def reference_text(path: Path) -> str:
    """The text of a ground-truth file as other projects ship it: plain text or Markdown, a CSV table (cells in
    row order), expected HTML (its text), or a Jest snapshot whose fields are JSON strings inside a template
    literal (node-word-extractor's body, notes, comments and text boxes)."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        import csv

        return "\n".join(" ".join(cell for cell in row if cell) for row in csv.reader(raw.splitlines()))
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        return BeautifulSoup(raw, "html.parser").get_text("\n")
    if path.suffix == ".snapx":
        fields = dict(re.findall(r'^\s*"(\w+)": "(.*)",$', raw, flags=re.MULTILINE))
        keys = ("body", "footnotes", "endnotes", "annotations", "textboxes", "headerTextboxes")
        return "\n".join(json.loads(json.loads('"' + fields[key].replace("\\\\", "\\") + '"'))
                         for key in keys if key in fields)
    return raw
