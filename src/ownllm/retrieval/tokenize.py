"""One tokenizer for mixed Chinese/English text, used for both indexing and queries.

Chinese runs go through jieba's search mode (which also emits the sub-words of long
words, so 保修期 matches 保修); Latin runs are lowercased words. Model codes such as
`BK-X200` are kept whole *and* split (`bk-x200`, `bk`, `x200`) so users find them
however they type them.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba

jieba.setLogLevel(logging.WARNING)
_jieba_ready = threading.Lock()
_initialized = False

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9][A-Za-z0-9\-_.+/]*")
_ENGLISH_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "how", "i",
    "in", "is", "it", "its", "of", "on", "or", "our", "that", "the", "their", "this", "to", "was",
    "what", "when", "where", "which", "who", "whom", "why", "will", "with", "you", "your", "do", "does",
    "did", "can", "could", "should", "would", "there", "these", "those", "we", "they", "he", "she",
    "them", "his", "her", "than", "then", "so", "if", "about", "into", "over", "per",
})
_CHINESE_STOPWORDS = frozenset({
    "的", "了", "是", "在", "和", "与", "及", "或", "也", "都", "就", "而", "之", "吗", "呢", "吧", "啊",
    "么", "什么", "哪", "哪些", "多少", "几", "是否", "怎么", "如何",
})


def _ensure_jieba() -> None:
    global _initialized
    if not _initialized:
        with _jieba_ready:
            if not _initialized:
                jieba.initialize()
                _initialized = True


def warm_up() -> None:
    """Load the Chinese segmenter's dictionary now (about half a second), so a server's first Chinese query
    does not pay for it; the API starts this in a background thread."""
    _ensure_jieba()


def _is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\ufaff"


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for run in _RUNS.findall(_THOUSANDS.sub("", text)):
        if _is_cjk(run):
            _ensure_jieba()
            tokens.extend(t for t in jieba.cut_for_search(run) if t.strip() and t not in _CHINESE_STOPWORDS)
            continue
        word = run.lower().strip("-_.+/")
        if not word or word in _ENGLISH_STOPWORDS:
            continue
        tokens.append(word)
        parts = [p for p in re.split(r"[\-_.+/]", word) if p]
        if len(parts) > 1:
            tokens.extend(p for p in parts if p not in _ENGLISH_STOPWORDS)
    return tokens
