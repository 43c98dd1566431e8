"""`ownllm synth`: generate, filter and store a dataset from one corpus version, as a job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ownllm.jobs.tracker import JobTracker
from ownllm.store.catalog import Dataset, new_id
from ownllm.store.home import Home
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import dataset_root, write_jsonl
from ownllm.synth.facts import fact_pairs
from ownllm.synth.filters import FilterReport, filter_pairs
from ownllm.synth.passages import continuation_record, cpt_record, paraphrase_record
from ownllm.synth.raft import RaftBuilder
from ownllm.synth.records import QAPair, chat_record
from ownllm.synth.replay import replay_records
from ownllm.synth.source import SourceCorpus, load_corpus
from ownllm.synth.split import split_documents
from ownllm.synth.teacher import HttpTeacher, LocalTeacher, Teacher, teacher_pairs


def make_teacher(home: Home, config: SynthConfig) -> Teacher:
    if config.teacher_url:
        return HttpTeacher(config.teacher_url, config.teacher_model or "default", config.teacher_api_key)
    return base_model_teacher(home, config.teacher_model)


def base_model_teacher(home: Home, model_id: str | None = None, max_tokens: int = 384) -> Teacher:
    """A shipped base model in-process, through the engine `ownllm serve` uses."""
    from ownllm.models.hub import DEFAULT_MODEL_ID, SHIPPED_MODELS
    from ownllm.serve.engines.llamacpp import get_engine

    model_id = model_id or DEFAULT_MODEL_ID
    engine = get_engine(SHIPPED_MODELS[model_id].locate(), n_ctx=home.settings.n_ctx,
                        n_threads=home.settings.n_threads)
    return LocalTeacher(engine, model_id, max_tokens)


def qa_chat_record(pair: QAPair) -> dict[str, Any]:
    return chat_record(None, pair.question, pair.answer, document_id=pair.document_id, chunk_id=pair.chunk_id,
                       generator=pair.generator)


def eval_record(pair: QAPair, names: dict[str, str]) -> dict[str, Any]:
    return {"question": pair.question, "answer": pair.answer, "lang": pair.lang, "source": names[pair.document_id],
            "document_id": pair.document_id, "chunk_id": pair.chunk_id, "generator": pair.generator}


def synthesize(home: Home, tenant_id: str, config: SynthConfig | None = None, corpus: str | int = "latest",
               tracker: JobTracker | None = None, teacher: Teacher | None = None) -> Dataset:
    config = config or SynthConfig()
    source = load_corpus(home, tenant_id, corpus)
    params = config.model_dump(exclude={"teacher_api_key"})
    tracker = tracker or JobTracker.create(home, "synth", tenant_id, params=params)
    try:
        dataset = _synthesize(home, tenant_id, config, source, tracker, teacher)
    except Exception as exc:
        tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    tracker.succeed({"dataset_id": dataset.id, "counts": dataset.counts})
    return dataset


def _synthesize(home: Home, tenant_id: str, config: SynthConfig, source: SourceCorpus, tracker: JobTracker,
                teacher: Teacher | None) -> Dataset:
    if (config.teacher or config.paraphrase) and teacher is None:
        teacher = make_teacher(home, config)
    split = split_documents(source.documents, config.heldout_fraction, config.seed)
    heldout = set(split.heldout)
    names = {d.id: d.name for d in source.documents}
    chunks = [(document, chunk) for document in source.documents for chunk in document.chunks]
    if config.max_chunks:
        chunks = chunks[: config.max_chunks]
    chunk_text = {chunk.id: chunk.text for _, chunk in chunks}
    tracker.start(total=len(chunks))
    report, seen = FilterReport(), set()
    train_pairs: list[QAPair] = []
    heldout_pairs: list[QAPair] = []
    sft: list[dict[str, Any]] = []
    cpt: list[dict[str, Any]] = []
    generated: dict[str, int] = {}
    for done, (document, chunk) in enumerate(chunks):
        tracker.progress(done, len(chunks), "generate", f"{document.name} {chunk.location}")
        pairs: list[QAPair] = []
        if config.facts:
            pairs += fact_pairs(chunk, document)
        if config.teacher and teacher is not None:
            pairs += teacher_pairs(teacher, chunk, document, config.pairs_per_chunk)
        for pair in pairs:
            generated[pair.generator] = generated.get(pair.generator, 0) + 1
        kept = filter_pairs(pairs, chunk_text, report, seen)
        if document.id in heldout:
            heldout_pairs += kept  # evaluation only: no training record comes from a held-out document
            continue
        train_pairs += kept
        if config.passages:
            cpt.append(cpt_record(chunk, document))
            continuation = continuation_record(chunk, document)
            if continuation is not None:
                sft.append(continuation)
        if config.paraphrase and teacher is not None:
            rewritten = paraphrase_record(teacher, chunk, document)
            if rewritten is not None:
                cpt.append(rewritten)
    sft = [qa_chat_record(pair) for pair in train_pairs] + sft
    replayed = 0
    if config.replay:
        tracker.progress(len(chunks), len(chunks), "replay", "base model answers general prompts")
        replay = replay_records(base_model_teacher(home, max_tokens=96), config.replay_prompts)
        replayed = len(replay)
        sft += replay
    raft: list[dict[str, Any]] = []
    if config.raft:
        builder = RaftBuilder([c for d, c in chunks if d.id not in heldout], config.raft_distractors,
                              config.raft_oracle_p, config.seed)
        raft = [r for r in (builder.record(p) for p in train_pairs) if r is not None]
    tracker.progress(len(chunks), len(chunks), "write", None)
    dataset_id = new_id("ds_")
    folder = dataset_root(home, tenant_id) / dataset_id
    folder.mkdir(parents=True, exist_ok=True)
    counts = {
        "generated": generated,
        "filters": report.as_dict(),
        "sft": write_jsonl(folder / "sft.jsonl", sft),
        "raft": write_jsonl(folder / "raft.jsonl", raft),
        "cpt": write_jsonl(folder / "cpt.jsonl", cpt),
        "eval_heldout": write_jsonl(folder / "eval_heldout.jsonl", (eval_record(p, names) for p in heldout_pairs)),
        "eval_train": write_jsonl(folder / "eval_train.jsonl", (eval_record(p, names) for p in train_pairs)),
        "documents": {"train": len(split.train), "heldout": len(split.heldout)},
        "replay": replayed,
    }
    split_info = split.as_dict(names)
    config_info = config.model_dump(exclude={"teacher_api_key"})
    if teacher is not None:
        config_info["teacher_name"] = teacher.name
    manifest = {"id": dataset_id, "tenant_id": tenant_id, "corpus_version_id": source.version_id,
                "corpus_version": source.version_number, "config": config_info, "split": split_info,
                "counts": counts}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    tracker.event("dataset written", dataset_id=dataset_id, **{k: v for k, v in counts.items() if isinstance(v, int)})
    with home.catalog.session() as session:
        dataset = Dataset(id=dataset_id, tenant_id=tenant_id, corpus_version_id=source.version_id,
                          job_id=tracker.job_id, path=str(Path(folder)), config=config_info, split=split_info,
                          counts=counts)
        session.add(dataset)
    return dataset
