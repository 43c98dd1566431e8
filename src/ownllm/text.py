"""Text facts every stage needs, defined once: scripts and language tags, CJK handling,
sentence boundaries, rough token counts and the text units that F1 and grounding count.

Ingest tags documents with `detect_lang`, chunking and RAG cut with `sentence_spans`,
synth and evaluation compare answers with `text_units`. Keeping them in one module means a
question is judged Chinese by the same rule that tagged its document Chinese.
"""

from __future__ import annotations

import re
import unicodedata

# CJK unified ideographs (extension A, the main block, compatibility ideographs)
CJK_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# scripts written without spaces between words: kana, CJK ideographs, hangul syllables
UNSPACED_CLASS = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_CJK = re.compile(f"[{CJK_CLASS}]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_ENGLISH = frozenset({
    "the", "of", "and", "to", "in", "is", "for", "on", "with", "that", "by", "this", "are", "as", "be", "from",
    "at", "or", "an", "it", "was",
})
# a sentence ends after CJK or Latin end punctuation (a Latin full stop only before whitespace) or at a newline
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])|(?<=[.])(?=\s)|\n")
# what F1 and grounding count: one CJK character, or one run of Latin letters/digits
_UNITS = re.compile(f"[{CJK_CLASS}]|[a-z0-9]+")


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def is_chinese(text: str) -> bool:
    """True when the text holds any CJK ideograph (answers and gold spans are short)."""
    return bool(_CJK.search(text))


def detect_lang(text: str) -> str:
    """A language tag by script (zh, ja, ko, ar, ru); Latin text is `en` when English function words
    are common in it, otherwise `und` (undetermined Latin)."""
    counts = {
        "ja": len(_KANA.findall(text)), "ko": len(_HANGUL.findall(text)), "ar": len(_ARABIC.findall(text)),
        "ru": len(_CYRILLIC.findall(text)), "zh": cjk_count(text),
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


def question_lang(text: str) -> str:
    """zh or en for a short question or answer: Chinese when CJK is a real share of its letters."""
    letters = sum(1 for ch in text if ch.isalpha())
    return "zh" if letters and cjk_count(text) / letters > 0.3 else "en"


def approx_tokens(text: str) -> int:
    """Rough token count (CJK char ~1 token, English word ~1.3), used where no tokenizer is loaded."""
    cjk = cjk_count(text)
    words = len(re.findall(f"[A-Za-z0-9]+|[^\\sA-Za-z0-9{CJK_CLASS}]", text))
    return cjk + int(words * 1.3) + 1


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in `text`; blank pieces are skipped."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end > start and text[start:end].strip():
            spans.append((start, end))
            start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped (table rows and list items count as sentences)."""
    return [text[a:b].strip() for a, b in sentence_spans(text)]


def text_units(text: str) -> list[str]:
    """CJK characters and runs of Latin letters or digits, NFKC-folded and lower-cased: what char F1
    and grounding count, so "95 km" is two units and "VM-A300" is two, not six."""
    return _UNITS.findall(unicodedata.normalize("NFKC", text).lower())


def has_lone_surrogate(text: str) -> bool:
    """JSON may carry `\\ud800` alone; such a string cannot be encoded as UTF-8 anywhere downstream."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
