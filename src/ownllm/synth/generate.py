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
from ownllm.synth.grounded import GroundedBuilder
from ownllm.synth.passages import continuation_record, cpt_record, paraphrase_record
from ownllm.synth.raft import RaftBuilder, TrainingChunks
from ownllm.synth.records import QAPair, chat_record
from ownllm.synth.replay import replay_records
from ownllm.synth.source import SourceCorpus
from ownllm.synth.split import DocumentSplit, split_documents
from ownllm.synth.subjects import shared_headings
from ownllm.synth.teacher import Teacher, teacher_pairs
from ownllm.synth.teaching import (
    JudgeReport,
    entity_passages,
    judge_sample,
    linked_chunks,
    multihop_pair,
    natural_pairs,
    unanswerable_pair,
)


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
    judge: JudgeReport | None = None
    replayed: int = 0


def qa_chat_record(pair: QAPair) -> dict[str, Any]:
    return chat_record(None, pair.question, pair.answer, document_id=pair.document_id, chunk_id=pair.chunk_id,
                       generator=pair.generator)


def _spread(total: int, count: int) -> set[int]:
    """`count` chunk positions spread evenly over `total` (every document gets its turn, not the first ones)."""
    if count <= 0 or total <= 0:
        return set()
    step = max(total / count, 1.0)
    return {int(i * step) for i in range(min(count, total))}


def _multihop(source: SourceCorpus, config: SynthConfig, tracker: JobTracker, teacher: Teacher, out: SynthOutput,
              chunk_text: dict[str, str], seen: set[str], removed: list[QAPair], heldout: set[str]) -> None:
    """Questions across two documents; a pair touching a held-out document is for evaluation only."""
    document_of = {chunk.id: document.id for document in source.documents for chunk in document.chunks}
    links = linked_chunks(source.documents, config.multihop, config.seed)
    for done, (chunk_a, chunk_b, name) in enumerate(links):
        tracker.progress(done, len(links), "multi-hop", name)
        pair = multihop_pair(teacher, chunk_a, chunk_b, name, document_of)
        if pair is None:
            continue
        out.generated["multihop"] = out.generated.get("multihop", 0) + 1
        for kept in filter_pairs([pair], chunk_text, out.filters, seen, removed):
            touches_heldout = {kept.document_id, kept.meta["second_document"]} & heldout
            (out.heldout_pairs if touches_heldout else out.train_pairs).append(kept)


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
    removed: list[QAPair] = []
    generic_headings = shared_headings(source.documents)
    continuations: list[dict[str, Any]] = []
    unanswerable_at = _spread(len(chunks), config.unanswerable)
    entigraph_at = _spread(len(chunks), config.entigraph)
    for done, (document, chunk) in enumerate(chunks):
        tracker.progress(done, len(chunks), "generate", f"{document.name} {chunk.location}")
        if done % 20 == 0:
            tracker.check_cancelled()
        pairs: list[QAPair] = []
        if config.facts:
            pairs += fact_pairs(chunk, document, generic_headings)
        if config.teacher and teacher is not None:
            pairs += teacher_pairs(teacher, chunk, document, config.pairs_per_chunk)
        if config.natural and teacher is not None:
            pairs += natural_pairs(teacher, chunk, document, config.natural_per_chunk)
        if done in unanswerable_at and teacher is not None:
            pairs += [p for p in [unanswerable_pair(teacher, chunk, document)] if p is not None]
        for pair in pairs:
            out.generated[pair.generator] = out.generated.get(pair.generator, 0) + 1
        kept = filter_pairs(pairs, chunk_text, out.filters, seen, removed)
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
        if done in entigraph_at and teacher is not None:
            passages = entity_passages(teacher, chunk, document)
            out.generated["entigraph"] = out.generated.get("entigraph", 0) + len(passages)
            out.cpt += passages
    if config.multihop and teacher is not None:
        _multihop(source, config, tracker, teacher, out, chunk_text, seen, removed, heldout)
    if config.judge_sample and teacher is not None:
        tracker.progress(len(chunks), len(chunks), "judge", "the teacher grades a sample of kept and removed pairs")
        out.train_pairs, out.judge = judge_sample(teacher, out.train_pairs, removed, chunk_text, config.judge_sample,
                                                  config.seed)
    out.sft = [qa_chat_record(pair) for pair in out.train_pairs] + continuations
    train_chunks = TrainingChunks([c for d, c in chunks if d.id not in heldout])  # tokenized once, for both
    answerable = [p for p in out.train_pairs if not p.meta.get("unanswerable")]
    if config.grounded:
        grounded = GroundedBuilder(train_chunks, config.seed, passages=bool(config.grounded_passages),
                                   titles={d.id: d.title for d, _ in chunks})
        out.sft += [r for r in (grounded.record(p) for p in answerable) if r is not None]
    if config.replay and replay_teacher is not None:
        tracker.progress(len(chunks), len(chunks), "replay", "base model answers general prompts")
        replay = replay_records(replay_teacher, config.replay_prompts)
        out.replayed = len(replay)
        out.sft += replay
    if config.raft:
        builder = RaftBuilder(train_chunks, config.raft_distractors, config.raft_oracle_p, config.seed)
        out.raft = [r for r in (builder.record(p) for p in answerable) if r is not None]
    tracker.progress(len(chunks), len(chunks), "write", None)
    return out
