"""Answer metrics: SQuAD v1.1 exact match and token F1 for English, character F1 for Chinese.

The English definitions follow the SQuAD v1.1 evaluation script: lower-case, drop
punctuation, drop the articles a/an/the, collapse whitespace; F1 over the multiset of
tokens; the best score over all gold answers. Chinese text has no spaces, so F1 counts
characters (as the CMRC/DRCD evaluations do), with runs of Latin letters or digits kept as
one unit so "95 km" stays two units and "VM-A300" does not become six.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Sequence

from ownllm.text import is_chinese, text_units

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalization."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str, lang: str = "en") -> float:
    if lang == "zh" or is_chinese(gold):
        return float(text_units(prediction) == text_units(gold))
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, gold: str, lang: str = "en") -> float:
    if lang == "zh" or is_chinese(gold):
        return _f1(text_units(prediction), text_units(gold))
    return _f1(normalize_answer(prediction).split(), normalize_answer(gold).split())


def best_over_golds(metric, prediction: str, golds: Sequence[str], lang: str = "en") -> float:
    return max(metric(prediction, gold, lang) for gold in golds)


def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    k = len(values)
    means = sorted(sum(values[rng.randrange(k)] for _ in range(k)) / k for _ in range(n))
    low = means[int((1 - level) / 2 * n)]
    high = means[min(n - 1, int((1 + level) / 2 * n))]
    return (low, high)


def paired_difference_ci(a: Sequence[float], b: Sequence[float], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of mean(a - b) over the same questions (resampled together)."""
    return bootstrap_ci([x - y for x, y in zip(a, b, strict=True)], n=n, seed=seed)
