"""Text cleaning applied to every block before chunking.

This slice does only what is always safe: Unicode NFC, control characters out,
runs of spaces collapsed, and blank lines squeezed. Heavier steps (NFKC width
folding, header/footer removal, near-dedupe, PII redaction) have their own modules.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str, *, keep_layout: bool = False) -> str:
    """Normalize one block; `keep_layout` leaves inner spacing alone (tables, code)."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    if not keep_layout:
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
