"""The promotion gate: a tuned model is promoted only when it is measurably better and still itself.

Rules (both must hold):
1. On the held-out questions, tuned+RAG beats base+RAG on F1 and the 95% bootstrap interval of
   the paired difference lies above zero. The served system is a model *with* the knowledge
   base, and held-out documents cannot be known closed-book, so this is the comparison that
   says whether tuning helped where it is used.
2. General ability did not collapse: perplexity on the fixed general text rose by at most
   `ppl_tolerance` (default 25%).
"""

from __future__ import annotations

from dataclasses import dataclass

from ownllm.evaluate.metrics import paired_difference_ci
from ownllm.store.catalog import TunedModel
from ownllm.store.home import Home
from ownllm.store.statuses import ModelStatus

PPL_TOLERANCE = 0.25


@dataclass
class GateDecision:
    model: str
    promoted: bool
    reasons: list[str]
    f1_difference: float
    f1_difference_ci: tuple[float, float]
    perplexity_ratio: float | None

    def as_dict(self) -> dict:
        return {"model": self.model, "promoted": self.promoted, "reasons": self.reasons,
                "heldout_f1_difference": self.f1_difference, "heldout_f1_difference_ci": list(self.f1_difference_ci),
                "perplexity_ratio": self.perplexity_ratio}


def decide(model: str, tuned_f1: list[float], base_f1: list[float], tuned_ppl: float | None,
           base_ppl: float | None, ppl_tolerance: float = PPL_TOLERANCE) -> GateDecision:
    reasons = []
    if not tuned_f1:
        low = high = difference = 0.0
        reasons.append("no held-out questions to judge on")
    else:
        difference = sum(t - b for t, b in zip(tuned_f1, base_f1, strict=True)) / len(tuned_f1)
        low, high = paired_difference_ci(tuned_f1, base_f1)
        if low <= 0:
            reasons.append(f"held-out F1 gain {difference:+.3f} has a 95% interval [{low:+.3f}, {high:+.3f}] that "
                           "does not exclude zero")
    ratio = tuned_ppl / base_ppl if tuned_ppl and base_ppl else None
    if ratio is not None and ratio > 1 + ppl_tolerance:
        reasons.append(f"general-text perplexity rose {ratio:.2f}x (tolerance {1 + ppl_tolerance:.2f}x)")
    return GateDecision(model, not reasons, reasons or ["beats its base on held-out F1 and keeps general ability"],
                        difference, (low, high), ratio)


def apply_gate(home: Home, decisions: list[GateDecision]) -> None:
    """Record each decision on its tuned model: promoted or rejected (a separate step from scoring)."""
    with home.catalog.session() as session:
        for decision in decisions:
            row = session.get(TunedModel, decision.model)
            if row is not None:
                row.status = ModelStatus.PROMOTED if decision.promoted else ModelStatus.REJECTED
