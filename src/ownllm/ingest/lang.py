"""A cheap language tag: Chinese when CJK ideographs make up a real share of the letters."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_lang(text: str) -> str:
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if cjk == 0 and latin_words == 0:
        return "und"
    # one Chinese character carries about as much as one English word
    return "zh" if cjk >= latin_words else "en"


def approx_tokens(text: str) -> int:
    """Rough token count (CJK char ~1 token, English word ~1.3) used to size chunks without a tokenizer."""
    cjk = len(_CJK.findall(text))
    words = len(re.findall(r"[A-Za-z0-9]+|[^\sA-Za-z0-9\u3400-\u9fff]", text))
    return cjk + int(words * 1.3) + 1
