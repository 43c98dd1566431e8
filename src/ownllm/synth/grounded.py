"""Grounded records: a training question asked exactly as a served RAG request asks it.

A model tuned only on closed-book questions learns the training documents' facts, but a held-out
document reaches it through retrieval, in the prompt `retrieval/rag.py` builds: our system turn,
the evidence sentences picked from the retrieved chunks, then the question. A 135M model shown that
prompt untuned mostly restates the evidence or its own guess (held-out base+RAG F1 0.18 on the sample
company). So each training question also becomes one record in that very prompt: the question's own
chunk among the training chunks that share most terms with it (what a search returns), the sentences
chosen by the same `select_evidence` the server uses, and the short answer as the target. Records
whose chosen evidence does not contain the answer are skipped (they would teach guessing).
Held-out documents never appear, not even as distractors. The prompt is the one the tuned model will
be served with, which follows its base: sentence evidence for SmolLM2, whole numbered passages with
the decline rule (and the answer-in-Chinese instruction for a Chinese question) for a base that reads
passages (the Qwen models; `passages=True`).
"""

from __future__ import annotations

import random
from typing import Any

from ownllm.chat.policy import answer_in_the_question_language
from ownllm.retrieval.rag import ground_in_hits
from ownllm.retrieval.search import SearchHit
from ownllm.synth.raft import TrainingChunks
from ownllm.synth.records import QAPair, chat_record
from ownllm.synth.source import SourceChunk

SEARCHED = 5  # chunks a served search returns (chat/answer.py Knowledge.top_k)


def _hit(chunk: SourceChunk, rank: int, title: str = "") -> SearchHit:
    return SearchHit(rank, 0.0, chunk.id, chunk.text, chunk.document_id, title, "", "document", None, None,
                     chunk.heading, 0, len(chunk.text))


class GroundedBuilder:
    def __init__(self, train_chunks: TrainingChunks, seed: int = 0, *, passages: bool = False,
                 titles: dict[str, str] | None = None) -> None:
        self._chunks = train_chunks
        self._rng = random.Random(seed)
        self._passages = passages
        self._titles = titles or {}

    def record(self, pair: QAPair) -> dict[str, Any] | None:
        oracle = self._chunks.get(pair.chunk_id)
        if oracle is None:
            return None
        chunks = self._chunks.nearest(pair.question, oracle, SEARCHED - 1, other_documents=False)
        chunks.insert(self._rng.randrange(min(3, len(chunks) + 1)), oracle)  # a search ranks the oracle high
        hits = [_hit(c, rank, self._titles.get(c.document_id, "")) for rank, c in enumerate(chunks)]
        messages, evidence = ground_in_hits([{"role": "user", "content": pair.question}], hits,
                                            passages=self._passages)
        if not any(pair.answer.lower() in item.sentence.lower() for item in evidence):
            return None
        if self._passages:  # the passage readers are the Qwen models, which are told to answer in Chinese
            messages = answer_in_the_question_language(messages)
        system, user = messages
        return chat_record(system["content"], user["content"], pair.answer, document_id=pair.document_id,
                           chunk_id=pair.chunk_id, generator="grounded",
                           evidence_chunk_ids=sorted({item.hit.chunk_id for item in evidence}))
