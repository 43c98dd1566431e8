"""Right-to-left text drawn in visual order (what pdfplumber's character stream gives for Arabic and
Hebrew) put back into logical order, the order it is read and searched in.

A visually ordered line is cut into left-to-right spans (Latin words and numbers, with the spaces
between them) and everything else. In a right-to-left line (most letters Arabic or Hebrew) the spans
are in reverse order; in either kind of line, the characters of the other spans are reversed, and
their brackets, drawn mirrored, are swapped back. Lines are handled one at a time.
"""

from __future__ import annotations

import re

_RTL_CHAR = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LTR_SPAN = re.compile(r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f\s.,:;'\"/%+\-]*[A-Za-z0-9\u00c0-\u024f])?")
_MIRROR = str.maketrans("()[]{}<>", ")(][}{><")


def has_rtl(text: str) -> bool:
    return bool(_RTL_CHAR.search(text))


def _line(text: str) -> str:
    if not has_rtl(text):
        return text
    spans: list[tuple[bool, str]] = []  # (left-to-right?, text)
    cursor = 0
    for match in _LTR_SPAN.finditer(text):
        if match.start() > cursor:
            spans.append((False, text[cursor:match.start()]))
        spans.append((True, match.group()))
        cursor = match.end()
    if cursor < len(text):
        spans.append((False, text[cursor:]))
    letters = sum(1 for ch in text if ch.isalpha())
    rtl_base = len(_RTL_CHAR.findall(text)) > 0.5 * letters
    ordered = reversed(spans) if rtl_base else spans
    return "".join(piece if ltr else piece[::-1].translate(_MIRROR) for ltr, piece in ordered)


def visual_to_logical(text: str) -> str:
    """Logical order for visually ordered text, line by line; text without right-to-left letters is unchanged."""
    if not has_rtl(text):
        return text
    return "\n".join(_line(line) for line in text.split("\n"))
