"""The shapes synth produces: question/answer pairs with provenance, and training records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# every name a synth generator writes into a record's `metadata.generator`: a recipe stage's `repeat` names one
GENERATORS = frozenset({"facts", "teacher", "natural", "multihop", "unanswerable", "grounded", "raft", "replay",
                        "passages", "continuation", "paraphrase", "entigraph"})


@dataclass
class QAPair:
    question: str
    answer: str
    lang: str
    document_id: str
    chunk_id: str
    generator: str  # one of GENERATORS
    evidence: str = ""  # the sentence the answer comes from
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chat_record(system: str | None, user: str, assistant: str, **meta: Any) -> dict[str, Any]:
    """One example in the OpenAI chat fine-tuning format, with our provenance under `metadata`."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": messages, "metadata": meta}


def text_record(text: str, **meta: Any) -> dict[str, Any]:
    """One raw-text example for continued pre-training (loss on every token)."""
    return {"text": text, "metadata": meta}
