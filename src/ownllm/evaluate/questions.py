"""Question sets: held-out documents (never trained on), training documents (memorization), user files.

Each question carries its gold answer(s), language, and the gold source file when known, so
RAG citations can be checked.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from ownllm.errors import InvalidInput
from ownllm.store.catalog import Dataset
from ownllm.synth.dataset import dataset_records
from ownllm.text import is_chinese


@dataclass(frozen=True)
class Question:
    set: str  # heldout | train | user | unanswerable
    question: str
    answers: tuple[str, ...]  # empty for an unanswerable question (the right reply is a decline)
    lang: str
    source: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)


def _lang(tagged: str | None, question: str) -> str:
    """The document's language tag where it is en/zh; otherwise (a table, a code list) the question's own."""
    if tagged in ("en", "zh"):
        return tagged
    return "zh" if is_chinese(question) else "en"


def sample_questions(items: list[Question], limit: int | None, seed: int) -> list[Question]:
    if limit is None or len(items) <= limit:
        return items
    return sorted(random.Random(seed).sample(items, limit), key=items.index)


def natural_only(items: list[Question]) -> list[Question]:
    """Synth writes each fact twice (a natural question and a fill-in-the-blank); evaluation asks the natural one."""
    natural = [q for q in items if "what fills the blank" not in q.question and "空白处" not in q.question]
    return natural or items


def from_dataset(dataset: Dataset, which: str, limit: int | None = None, seed: int = 0) -> list[Question]:
    kind = {"heldout": "eval_heldout", "train": "eval_train"}[which]
    items = [Question(which, r["question"], (r["answer"],), _lang(r.get("lang"), r["question"]), r.get("source"),
                      {"document_id": r.get("document_id")}) for r in dataset_records(dataset, kind)
             if not r.get("unanswerable")]  # synthesized declines teach; the company's own unanswerables test
    return sample_questions(natural_only(items), limit, seed)


def from_jsonl(path: Path, set_name: str = "user", limit: int | None = None, seed: int = 0) -> list[Question]:
    """`question`, `answer` (string or list), optional `source` and `lang`, one JSON object per line."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read question file ({exc.strerror})", param="questions") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name}: line {number} is not JSON ({exc.msg})", param="questions") from exc
        items.append(question_from_row(row, set_name, f"{path.name}: line {number}"))
    return sample_questions(items, limit, seed)


def question_from_row(row: dict, set_name: str, where: str) -> Question:
    """One user question (from a JSONL line or an API body); `where` names it in the error.

    `"unanswerable": true` marks a question the documents do not answer (no `answer` needed): it is
    scored on whether the system declines.
    """
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        raise InvalidInput(f"{where} needs a `question`", param="questions")
    lang = row.get("lang") or ("zh" if is_chinese(row["question"]) else "en")
    if row.get("unanswerable") is True:
        return Question("unanswerable", row["question"], (), lang, None)
    answer = row.get("answer")
    answers = tuple(answer) if isinstance(answer, list) else (answer,)
    if not answers or not all(isinstance(a, str) and a for a in answers):
        raise InvalidInput(f"{where} needs an `answer` (or `\"unanswerable\": true`)", param="questions")
    return Question(set_name, row["question"], answers, lang, row.get("source"))


def split_by_documents(items: list[Question], heldout_names: set[str]) -> list[Question]:
    """A company's own questions, placed by their `source` file: held-out documents make the held-out set
    (never trained on), every other sourced question the training-document set."""
    placed = []
    for item in items:
        if item.set == "unanswerable" or not item.source:
            placed.append(item)
        else:
            placed.append(replace(item, set="heldout" if item.source in heldout_names else "train"))
    return placed
