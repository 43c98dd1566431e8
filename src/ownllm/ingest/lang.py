"""Cheap language tags by script (zh, ja, ko, ar, ru, en), and a rough token estimate.

Scripts separate the languages a company corpus mixes most; Latin text is tagged `en`
when English function words are common in it, otherwise `und` (undetermined Latin).
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_ENGLISH = frozenset({
    "the", "of", "and", "to", "in", "is", "for", "on", "with", "that", "by", "this", "are", "as", "be", "from",
    "at", "or", "an", "it", "was",
})


def detect_lang(text: str) -> str:
    counts = {
        "ja": len(_KANA.findall(text)), "ko": len(_HANGUL.findall(text)), "ar": len(_ARABIC.findall(text)),
        "ru": len(_CYRILLIC.findall(text)), "zh": len(_CJK.findall(text)),
    }
    words = _LATIN_WORD.findall(text)
    if counts["ja"] and counts["ja"] >= 0.1 * (counts["zh"] + counts["ja"]):
        counts["ja"] += counts.pop("zh")  # kanji inside Japanese text
    script, amount = max(counts.items(), key=lambda item: item[1])
    if amount >= len(words) and amount > 0:
        return script
    if not words:
        return "und"
    english = sum(1 for w in words if w.lower() in _ENGLISH)
    return "en" if english >= 0.05 * len(words) else "und"


def approx_tokens(text: str) -> int:
    """Rough token count (CJK char ~1 token, English word ~1.3), used when no tokenizer is installed."""
    cjk = len(_CJK.findall(text))
    words = len(re.findall(r"[A-Za-z0-9]+|[^\sA-Za-z0-9\u3400-\u9fff]", text))
    return cjk + int(words * 1.3) + 1
