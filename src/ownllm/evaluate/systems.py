"""The systems compared: each model closed-book, and each model with RAG over the tenant's corpus.

Every system answers through `ownllm.chat.answer`, the function the API serves, so the numbers
are the numbers of what users get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ownllm.chat.answer import AnswerRequest, Knowledge, answer
from ownllm.chat.policy import CLOSED_BOOK_SYSTEM
from ownllm.evaluate.questions import Question
from ownllm.inference.pool import EnginePool
from ownllm.models.registry import ModelEntry
from ownllm.store.home import Home
from ownllm.text import is_chinese

MAX_ANSWER_TOKENS = 32
READER_SYSTEM = "reader+RAG"
_LATIN_WORD = re.compile(r"(?<![A-Za-z-])[A-Za-z]{4,}(?![A-Za-z-])")


def in_language(answer: str, lang: str) -> bool:
    """The answer is in the question's language: a Chinese question's answer has Chinese in it or is only
    figures, codes and units ("2,890 USD", "VM-A300"); an English question's has no Chinese."""
    if lang == "zh":
        return is_chinese(answer) or not _LATIN_WORD.search(answer)
    return not is_chinese(answer)


@dataclass(frozen=True)
class System:
    name: str  # base | base+RAG | tuned | tuned+RAG (or the model id for extra models)
    model: ModelEntry
    rag: bool


@dataclass
class SystemAnswer:
    answer: str
    cited_sources: list[str]
    not_found: bool


def system_request(system: System, question: str) -> AnswerRequest:
    """What each system sends: RAG systems ask as a user would; closed-book ones are told to be brief."""
    if system.rag:
        return AnswerRequest(system.model.id, [{"role": "user", "content": question}], max_tokens=MAX_ANSWER_TOKENS,
                             knowledge=Knowledge())
    return AnswerRequest(system.model.id, [{"role": "system", "content": CLOSED_BOOK_SYSTEM},
                                           {"role": "user", "content": question}],
                         max_tokens=MAX_ANSWER_TOKENS, stop=("\n\n",))


def ask_system(home: Home, pool: EnginePool, tenant_id: str, system: System, question: str) -> SystemAnswer:
    reply = answer(home, pool, tenant_id, system_request(system, question))
    sources = [c.get("document") or "" for c in reply.citations or []]
    return SystemAnswer(reply.text.strip(), sources, reply.not_found)


def questions_for(system: System, questions: list[Question]) -> list[Question]:
    """The questions a system is asked: the reader is not tuned, so training-document questions are unseen for
    it too and would only repeat the held-out measurement at the reader's (higher) cost."""
    return [q for q in questions if system.name != READER_SYSTEM or q.set != "train"]


def systems_for(models: list[ModelEntry], reader: ModelEntry | None = None) -> list[System]:
    """base, base+RAG, then each tuned model closed-book and with RAG (named tuned/tuned+RAG when one), and
    the tenant's reader with RAG when it is another model (what `ownllm ask` answers with)."""
    out = []
    tuned = [m for m in models if m.kind == "tuned"]
    for model in models:
        if model.kind == "base":
            label = "base" if len([m for m in models if m.kind == "base"]) == 1 else model.id
        else:
            label = "tuned" if len(tuned) == 1 else model.id
        out += [System(label, model, False), System(f"{label}+RAG", model, True)]
    if reader is not None:
        out.append(System(READER_SYSTEM, reader, True))
    return out
