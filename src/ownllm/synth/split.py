"""Hold out whole documents, so evaluation asks about text the tuned model never trained on.

The split is by document (not by question): questions about one document share facts, and
a question-level split would let the model see the answer through a sibling question.
Assignment hashes the document's file name with the seed, so it is stable across corpus
versions (a re-ingested document stays on the same side) and needs no stored state. Each
language gets at least one held-out document when it has two or more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ownllm.synth.source import SourceDocument


@dataclass(frozen=True)
class DocumentSplit:
    train: list[str]  # document ids
    heldout: list[str]
    seed: int
    fraction: float

    def as_dict(self, names: dict[str, str]) -> dict:
        return {
            "seed": self.seed,
            "heldout_fraction": self.fraction,
            "train_document_ids": self.train,
            "heldout_document_ids": self.heldout,
            "heldout_documents": sorted(names[d] for d in self.heldout),
        }


def _rank(name: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def split_documents(documents: list[SourceDocument], fraction: float = 0.2, seed: int = 0) -> DocumentSplit:
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"held-out fraction must be in [0, 1), got {fraction}")
    heldout: set[str] = set()
    by_lang: dict[str, list[SourceDocument]] = {}
    for document in documents:
        by_lang.setdefault(document.lang, []).append(document)
    for group in by_lang.values():
        ranked = sorted(group, key=lambda d: _rank(d.name, seed))  # stable: same-named documents keep corpus order
        count = round(len(group) * fraction)
        if fraction > 0 and count == 0 and len(group) >= 2:
            count = 1
        heldout.update(d.id for d in ranked[:count])
    train = [d.id for d in documents if d.id not in heldout]
    return DocumentSplit(train=train, heldout=[d.id for d in documents if d.id in heldout], seed=seed,
                         fraction=fraction)
