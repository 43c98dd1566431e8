"""The systems compared: each model closed-book, and each model with RAG over the tenant's corpus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ownllm.models.registry import ModelEntry
from ownllm.retrieval.rag import NOT_FOUND_ANSWER, ask
from ownllm.store.home import Home

CLOSED_BOOK_SYSTEM = "Answer the question with the exact fact, in a few words."
MAX_ANSWER_TOKENS = 32


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


def answer(home: Home, tenant_id: str, system: System, engine: Any, question: str) -> SystemAnswer:
    if system.rag:
        result = ask(home, tenant_id, question, engine, max_tokens=MAX_ANSWER_TOKENS)
        sources = [c.get("document") or "" for c in result.citations]
        return SystemAnswer(result.answer, sources, result.answer == NOT_FOUND_ANSWER)
    reply = engine.chat([{"role": "system", "content": CLOSED_BOOK_SYSTEM}, {"role": "user", "content": question}],
                        max_tokens=MAX_ANSWER_TOKENS, temperature=0.0, stop=["\n\n"])
    return SystemAnswer(reply.text.strip(), [], False)


def systems_for(models: list[ModelEntry]) -> list[System]:
    """base, base+RAG, then each tuned model closed-book and with RAG (named tuned/tuned+RAG when one)."""
    out = []
    tuned = [m for m in models if m.kind == "tuned"]
    for model in models:
        if model.kind == "base":
            label = "base" if len([m for m in models if m.kind == "base"]) == 1 else model.id
        else:
            label = "tuned" if len(tuned) == 1 else model.id
        out += [System(label, model, False), System(f"{label}+RAG", model, True)]
    return out
