"""Fuse lexical and dense rankings: reciprocal rank fusion (default) or weighted score fusion.

RRF needs no score calibration: each list contributes 1/(k + rank). Weighted fusion
min-max normalizes each list's scores and mixes them with `alpha` (weight of dense).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FusionMethod = Literal["rrf", "weighted"]


@dataclass(frozen=True)
class FusionConfig:
    method: FusionMethod = "rrf"
    rrf_k: int = 60
    alpha: float = 0.5  # weighted fusion: share of the dense score


def fuse(lexical: list[tuple[str, float]], dense: list[tuple[str, float]],
         config: FusionConfig) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    if config.method == "rrf":
        for ranking in (lexical, dense):
            for rank, (key, _) in enumerate(ranking, start=1):
                scores[key] = scores.get(key, 0.0) + 1.0 / (config.rrf_k + rank)
    else:
        for ranking, weight in ((lexical, 1.0 - config.alpha), (dense, config.alpha)):
            if not ranking:
                continue
            values = [s for _, s in ranking]
            low, high = min(values), max(values)
            span = (high - low) or 1.0
            for key, score in ranking:
                scores[key] = scores.get(key, 0.0) + weight * (score - low) / span
    return sorted(scores.items(), key=lambda item: -item[1])
