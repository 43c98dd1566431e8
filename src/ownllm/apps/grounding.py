"""Whether a sentence says what a passage says: the test behind grounded claims and cited items.

Deliberately plain: every number the claim states must be in the passage (a wrong price or
date is the error that matters), and most of its content words must be there too. It is a
check on copying, not on paraphrase, which is what apps ask for ("copied from one source").
"""

from __future__ import annotations

import re

from ownllm.retrieval.tokenize import tokenize

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset({"the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "with", "is", "are", "be", "by", "at",
                   "as", "it", "this", "that", "from", "we", "our", "will"})
MIN_SHARED = 0.3  # of the claim's content words found in the passage


def content_words(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in _STOP and (len(t) > 1 or not t.isascii())}


def supported(claim: str, source: str) -> bool:
    """Every number the claim states is in the source, and its content words mostly are."""
    source_numbers = {n.replace(",", "") for n in _NUMBER.findall(source)}
    if any(n.replace(",", "") not in source_numbers for n in _NUMBER.findall(claim)):
        return False
    words = content_words(claim)
    return not words or len(words & content_words(source)) / len(words) >= MIN_SHARED
