"""RAFT records: a question, its oracle chunk hidden among distractors, and a quoting answer.

Retrieval-augmented fine-tuning teaches the model to read the right passage and ignore
the rest. Distractors are the chunks of *other* training documents that share most terms
with the question (hard negatives), never chunks of held-out documents. With probability
1 - p the oracle is left out, so the model also learns the fact itself.
"""

from __future__ import annotations

import random
from typing import Any

from ownllm.retrieval.tokenize import tokenize
from ownllm.synth.records import QAPair, chat_record
from ownllm.synth.source import SourceChunk

RAFT_USER = "Documents:\n{documents}\n\nQuestion: {question}"


def _overlap(query_terms: set[str], chunk_terms: set[str]) -> float:
    return len(query_terms & chunk_terms) / (len(query_terms) or 1)


class TrainingChunks:
    """The training chunks a question's own chunk is hidden among: those sharing most of its terms (what
    a search would return beside it). Held-out chunks are never given to it."""

    def __init__(self, train_chunks: list[SourceChunk]) -> None:
        self._chunks = train_chunks
        self._terms = {chunk.id: set(tokenize(chunk.text)) for chunk in train_chunks}
        self._by_id = {chunk.id: chunk for chunk in train_chunks}

    def get(self, chunk_id: str) -> SourceChunk | None:
        return self._by_id.get(chunk_id)

    def nearest(self, question: str, oracle: SourceChunk, count: int, *, other_documents: bool) -> list[SourceChunk]:
        """The `count` chunks sharing most of the question's terms, except the oracle (and its document's).

        Ties keep the corpus order (`load_corpus`: file name, text, position; the sort is stable), never the id: ids are
        drawn afresh by each ingest, and breaking ties by them gave the same files a different dataset in
        every new home (1,884 to 1,891 SFT records from the sample company).
        """
        query = set(tokenize(question))
        others = [c for c in self._chunks
                  if c.id != oracle.id and not (other_documents and c.document_id == oracle.document_id)]
        others.sort(key=lambda c: -_overlap(query, self._terms[c.id]))
        return others[:count]


class RaftBuilder:
    def __init__(self, train_chunks: TrainingChunks, distractors: int = 3, oracle_p: float = 0.8,
                 seed: int = 0) -> None:
        self._chunks = train_chunks
        self.distractors = distractors
        self.oracle_p = oracle_p
        self._rng = random.Random(seed)

    def record(self, pair: QAPair) -> dict[str, Any] | None:
        oracle = self._chunks.get(pair.chunk_id)
        if oracle is None:
            return None
        others = self._chunks.nearest(pair.question, oracle, self.distractors + 1, other_documents=True)
        chosen = others[: self.distractors]
        keep_oracle = self._rng.random() < self.oracle_p
        documents = [*chosen, oracle] if keep_oracle else list(others)
        self._rng.shuffle(documents)
        listing = "\n\n".join(f"[{i + 1}] {chunk.text}" for i, chunk in enumerate(documents))
        quote = pair.evidence or pair.answer
        answer = f'Quote: "{quote}"\nAnswer: {pair.answer}'
        return chat_record(None, RAFT_USER.format(documents=listing, question=pair.question), answer,
                           document_id=pair.document_id, chunk_id=pair.chunk_id, generator="raft",
                           oracle_included=keep_oracle)
