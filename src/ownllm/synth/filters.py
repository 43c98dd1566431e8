"""Filters every generated pair must pass; each reports how many it removed.

Grounding is the one that matters: an answer must be found in its source chunk (verbatim
after normalization, or with at least 80% of its tokens — characters for Chinese — present).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ownllm.synth.records import QAPair
from ownllm.text import question_lang, text_units

GROUNDING_MIN = 0.8
# a natural question's answer is "a few words copied from the text"; a small teacher often copies the whole
# sentence instead (measured: 14 of 20 grounded pairs from Qwen 0.5B), which teaches sentence answers and pins
# no fact. Over this many units (words; characters for Chinese) the pair is removed.
NATURAL_ANSWER_MAX_UNITS = {"en": 12, "zh": 24}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", " ", text).strip()


def share_in_source(text: str, source: str) -> float:
    """The share of the text's units (words; characters for Chinese) that the source holds."""
    units = text_units(text)
    source_units = Counter(text_units(source))
    return sum(1 for unit in units if source_units[unit] > 0) / len(units) if units else 0.0


def grounded(answer: str, source: str) -> bool:
    norm_answer, norm_source = normalize(answer), normalize(source)
    if not norm_answer:
        return False
    if norm_answer in norm_source:
        return True
    return share_in_source(answer, source) >= GROUNDING_MIN


@dataclass
class FilterReport:
    kept: int = 0
    removed: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"kept": self.kept, "removed": dict(self.removed)}


def filter_pairs(pairs: list[QAPair], chunk_text: dict[str, str], report: FilterReport,
                 seen_questions: set[str], removed: list[QAPair] | None = None) -> list[QAPair]:
    """Pairs that pass every filter; `removed`, when given, collects the others (for the judge's sample).
    A multi-hop answer may come from either of its chunks; an unanswerable one is the decline, not grounded
    in the text by design (its question must not be answered there: the judge samples that)."""
    kept = []
    for pair in pairs:
        reason = None
        source = chunk_text.get(pair.chunk_id, "") + "\n" + chunk_text.get(pair.meta.get("second_chunk", ""), "")
        if not 8 <= len(pair.question) <= 400 or not 1 <= len(pair.answer) <= 300:
            reason = "length"
        elif pair.lang in ("zh", "en") and question_lang(pair.question) != pair.lang:
            reason = "language"
        elif not pair.meta.get("unanswerable") and not grounded(pair.answer, source):
            reason = "ungrounded"
        elif pair.generator == "natural" and len(text_units(pair.answer)) > NATURAL_ANSWER_MAX_UNITS.get(pair.lang, 12):
            reason = "sentence_answer"
        elif normalize(pair.question) in seen_questions:
            reason = "duplicate_question"
        elif normalize(pair.answer) == normalize(pair.question):
            reason = "answer_is_question"
        if reason:
            report.removed[reason] += 1
            if removed is not None:
                removed.append(pair)
            continue
        seen_questions.add(normalize(pair.question))
        kept.append(pair)
    report.kept += len(kept)
    return kept
