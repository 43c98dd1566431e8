"""Teacher Q/A: a chat model writes question/answer pairs for each chunk.

The teacher is any OpenAI-compatible endpoint (`--teacher-url`), or by default our own
base model loaded in-process through the same engine `ownllm serve` uses. Its replies are
parsed leniently (JSON lines, a JSON list, or `Q:`/`A:` lines), and everything it writes
still has to pass the grounding filter, because a small teacher invents freely.
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

import httpx

from ownllm.errors import InvalidInput
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument

PROMPT_EN = (
    "Read the text and write {n} questions that it answers. Copy each answer word for word from the text.\n"
    'Reply with one JSON object per line: {{"question": "...", "answer": "..."}}\n\nText:\n{text}'
)
PROMPT_ZH = (
    "阅读下面的文字，写出{n}个可以由它回答的问题。答案必须从原文中逐字摘录。\n"
    '每行一个JSON对象：{{"question": "...", "answer": "..."}}\n\n文字：\n{text}'
)
_OBJECT = re.compile(r"\{[^{}]*\}")
_QA_LINES = re.compile(r"(?:Q|Question|问题?)\s*[:：]\s*(.+?)\s*\n\s*(?:A|Answer|答案?)\s*[:：]\s*(.+)")


class Teacher(Protocol):
    name: str

    def complete(self, messages: list[dict[str, Any]]) -> str: ...


class HttpTeacher:
    """Any OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.name = f"{model}@{base_url}"
        self._model = model
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                    headers={"Authorization": f"Bearer {api_key}"} if api_key else {})

    def complete(self, messages: list[dict[str, Any]]) -> str:
        body = {"model": self._model, "messages": messages, "temperature": 0.0, "max_tokens": 512}
        try:
            response = self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise InvalidInput(f"teacher at {self.name} is unreachable: {exc}", param="teacher_url") from exc
        if response.status_code != 200:
            raise InvalidInput(f"teacher at {self.name} answered HTTP {response.status_code}: {response.text[:200]}",
                               param="teacher_url")
        return response.json()["choices"][0]["message"].get("content") or ""


class LocalTeacher:
    """Our own base model, in-process (the model `ownllm serve` serves by default)."""

    def __init__(self, engine: Any, name: str, max_tokens: int = 384) -> None:
        self.name = name
        self._engine = engine
        self._max_tokens = max_tokens

    def complete(self, messages: list[dict[str, Any]]) -> str:
        return self._engine.chat(messages, max_tokens=self._max_tokens, temperature=0.0).text


def parse_pairs(reply: str) -> list[tuple[str, str]]:
    pairs = []
    for match in _OBJECT.finditer(reply):
        try:
            item = json.loads(match.group())
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("answer"), str):
            pairs.append((item["question"].strip(), item["answer"].strip()))
    if not pairs:
        pairs = [(q.strip(), a.strip()) for q, a in _QA_LINES.findall(reply)]
    return pairs


def teacher_pairs(teacher: Teacher, chunk: SourceChunk, document: SourceDocument, n: int = 3) -> list[QAPair]:
    prompt = (PROMPT_ZH if chunk.lang == "zh" else PROMPT_EN).format(n=n, text=chunk.text)
    reply = teacher.complete([{"role": "user", "content": prompt}])
    return [QAPair(q, a, chunk.lang, document.id, chunk.id, "teacher", meta={"teacher": teacher.name})
            for q, a in parse_pairs(reply)]
