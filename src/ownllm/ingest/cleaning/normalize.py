"""Unicode normalization: NFKC (ligatures, full-width letters and digits to ASCII) where it is safe.

Full-width punctuation inside Chinese text (，：？！（）) is Chinese typography, not noise,
so it is kept when a neighbouring character is CJK; everywhere else NFKC applies. Control
characters and zero-width marks go, runs of spaces collapse.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_FULLWIDTH_PUNCT = re.compile(r"[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")


def _is_cjk(char: str) -> bool:
    return bool(char) and ("\u3000" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" or "\uf900" <= char <= "\ufaff")


def nfkc_keeping_cjk_punctuation(text: str) -> str:
    out, start = [], 0
    for match in _FULLWIDTH_PUNCT.finditer(text):
        index = match.start()
        before, after = text[index - 1:index], text[index + 1:index + 2]
        if _is_cjk(before) or _is_cjk(after):
            out.append(unicodedata.normalize("NFKC", text[start:index]))
            out.append(text[index])
            start = index + 1
    out.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(out)


def normalize_text(text: str, *, unicode_fold: bool = True, keep_layout: bool = False) -> str:
    text = nfkc_keeping_cjk_punctuation(text) if unicode_fold else unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    if not keep_layout:
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
