"""Generation: every record a synth run makes from one corpus version, before anything is written.

Documents are split by document first; questions about held-out documents go to evaluation
only, and no training record comes from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ownllm.jobs.tracker import JobTracker
from ownllm.synth.config import SynthConfig
from ownllm.synth.facts import fact_pairs
from ownllm.synth.filters import FilterReport, filter_pairs
from ownllm.synth.passages import continuation_record, cpt_record, paraphrase_record
from ownllm.synth.raft import RaftBuilder
from ownllm.synth.records import QAPair, chat_record
from ownllm.synth.replay import replay_records
from ownllm.synth.source import SourceCorpus
from ownllm.synth.split import DocumentSplit, split_documents
from ownllm.synth.teacher import Teacher, teacher_pairs


@dataclass
class SynthOutput:
    split: DocumentSplit
    sft: list[dict[str, Any]] = field(default_factory=list)
    raft: list[dict[str, Any]] = field(default_factory=list)
    cpt: list[dict[str, Any]] = field(default_factory=list)
    train_pairs: list[QAPair] = field(default_factory=list)
    heldout_pairs: list[QAPair] = field(default_factory=list)
    generated: dict[str, int] = field(default_factory=dict)
    filters: FilterReport = field(default_factory=FilterReport)
    replayed: int = 0


def qa_chat_record(pair: QAPair) -> dict[str, Any]:
    return chat_record(None, pair.question, pair.answer, document_id=pair.document_id, chunk_id=pair.chunk_id,
                       generator=pair.generator)


def generate_records(source: SourceCorpus, config: SynthConfig, tracker: JobTracker, teacher: Teacher | None,
                     replay_teacher: Teacher | None) -> SynthOutput:
    split = split_documents(source.documents, config.heldout_fraction, config.seed)
    out = SynthOutput(split)
    heldout = set(split.heldout)
    chunks = [(document, chunk) for document in source.documents for chunk in document.chunks]
    if config.max_chunks:
        chunks = chunks[: config.max_chunks]
    chunk_text = {chunk.id: chunk.text for _, chunk in chunks}
    tracker.start(total=len(chunks))
    seen: set[str] = set()
    continuations: list[dict[str, Any]] = []
    for done, (document, chunk) in enumerate(chunks):
        tracker.progress(done, len(chunks), "generate", f"{document.name} {chunk.location}")
        if done % 20 == 0:
            tracker.check_cancelled()
        pairs: list[QAPair] = []
        if config.facts:
            pairs += fact_pairs(chunk, document)
        if config.teacher and teacher is not None:
            pairs += teacher_pairs(teacher, chunk, document, config.pairs_per_chunk)
        for pair in pairs:
            out.generated[pair.generator] = out.generated.get(pair.generator, 0) + 1
        kept = filter_pairs(pairs, chunk_text, out.filters, seen)
        if document.id in heldout:
            out.heldout_pairs += kept  # evaluation only: no training record comes from a held-out document
            continue
        out.train_pairs += kept
        if config.passages:
            out.cpt.append(cpt_record(chunk, document))
            continuation = continuation_record(chunk, document)
            if continuation is not None:
                continuations.append(continuation)
        if config.paraphrase and teacher is not None:
            rewritten = paraphrase_record(teacher, chunk, document)
            if rewritten is not None:
                out.cpt.append(rewritten)
    out.sft = [qa_chat_record(pair) for pair in out.train_pairs] + continuations
    if config.replay and replay_teacher is not None:
        tracker.progress(len(chunks), len(chunks), "replay", "base model answers general prompts")
        replay = replay_records(replay_teacher, config.replay_prompts)
        out.replayed = len(replay)
        out.sft += replay
    if config.raft:
        builder = RaftBuilder([c for d, c in chunks if d.id not in heldout], config.raft_distractors,
                              config.raft_oracle_p, config.seed)
        out.raft = [r for r in (builder.record(p) for p in out.train_pairs) if r is not None]
    tracker.progress(len(chunks), len(chunks), "write", None)
    return out
