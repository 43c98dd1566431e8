"""Datasets on disk and in the catalog: one folder of JSONL files per synth run.

Files: `sft.jsonl` (chat Q/A + continuations), `raft.jsonl`, `cpt.jsonl` (raw text), and the
questions evaluation needs — `eval_heldout.jsonl` (held-out documents, never trained on) and
`eval_train.jsonl` (training documents, to show memorization) — plus `manifest.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ownllm.errors import InvalidInput, NotFound
from ownllm.store.catalog import Dataset, new_id
from ownllm.store.home import Home
from ownllm.synth.generate import SynthOutput
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceCorpus

KINDS = ("sft", "raft", "cpt", "eval_heldout", "eval_train")


def dataset_root(home: Home, tenant_id: str) -> Path:
    return home.root / "datasets" / tenant_id


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path.name}: line {number} is not valid JSON ({exc.msg})") from exc
            if limit is not None and len(records) >= limit:
                break
    return records


def record_generator(record: Any) -> str:
    """The synth generator that wrote a training record (`metadata.generator`), or "" for a record that names
    none, such as a company's own JSONL."""
    metadata = record.get("metadata") if isinstance(record, dict) else None
    generator = metadata.get("generator") if isinstance(metadata, dict) else None
    return generator if isinstance(generator, str) else ""


def get_dataset(home: Home, tenant_id: str, ref: str = "latest") -> Dataset:
    with home.catalog.session() as session:
        query = select(Dataset).where(Dataset.tenant_id == tenant_id)
        if ref in ("", "latest"):
            dataset = session.scalar(query.order_by(Dataset.created_at.desc()).limit(1))
        else:
            dataset = session.scalar(query.where(Dataset.id == ref))
        if dataset is None:
            what = "this tenant has no dataset yet: run `ownllm synth` first" if ref in ("", "latest") \
                else f"dataset {ref!r} does not exist"
            raise NotFound(what, param="dataset", code="dataset_not_found")
        return dataset


def list_datasets(home: Home, tenant_id: str) -> list[Dataset]:
    with home.catalog.session() as session:
        return list(session.scalars(select(Dataset).where(Dataset.tenant_id == tenant_id)
                                    .order_by(Dataset.created_at)))


def dataset_records(dataset: Dataset, kind: str, limit: int | None = None) -> list[dict[str, Any]]:
    if kind not in KINDS:
        raise InvalidInput(f"unknown dataset file {kind!r}; choose one of {', '.join(KINDS)}", param="kind")
    path = Path(dataset.path) / f"{kind}.jsonl"
    return read_jsonl(path, limit) if path.exists() else []


def eval_record(pair: QAPair, names: dict[str, str]) -> dict[str, Any]:
    record = {"question": pair.question, "answer": pair.answer, "lang": pair.lang, "source": names[pair.document_id],
              "document_id": pair.document_id, "chunk_id": pair.chunk_id, "generator": pair.generator}
    if pair.meta.get("unanswerable"):
        record["unanswerable"] = True
    return record


def write_dataset(home: Home, tenant_id: str, source: SourceCorpus, output: SynthOutput, config_info: dict[str, Any],
                  job_id: str | None) -> Dataset:
    """The run's records as a dataset folder (JSONL files and a manifest) plus its catalog row."""
    names = {d.id: d.name for d in source.documents}
    heldout = [eval_record(p, names) for p in output.heldout_pairs]
    dataset_id = new_id("ds_")
    folder = dataset_root(home, tenant_id) / dataset_id
    folder.mkdir(parents=True, exist_ok=True)
    counts = {
        "generated": output.generated,
        "filters": output.filters.as_dict(),
        "sft": write_jsonl(folder / "sft.jsonl", output.sft),
        "raft": write_jsonl(folder / "raft.jsonl", output.raft),
        "cpt": write_jsonl(folder / "cpt.jsonl", output.cpt),
        "eval_heldout": write_jsonl(folder / "eval_heldout.jsonl", heldout),
        "eval_train": write_jsonl(folder / "eval_train.jsonl", [eval_record(p, names) for p in output.train_pairs]),
        "documents": {"train": len(output.split.train), "heldout": len(output.split.heldout)},
        "replay": output.replayed,
    }
    if output.judge is not None:
        counts["judge"] = output.judge.as_dict()
    split_info = output.split.as_dict(names)
    manifest = {"id": dataset_id, "tenant_id": tenant_id, "corpus_version_id": source.version_id,
                "corpus_version": source.version_number, "config": config_info, "split": split_info,
                "counts": counts}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    with home.catalog.session() as session:
        dataset = Dataset(id=dataset_id, tenant_id=tenant_id, corpus_version_id=source.version_id, job_id=job_id,
                          path=str(folder), config=config_info, split=split_info, counts=counts)
        session.add(dataset)
    return dataset
