"""Teacher Q/A: a chat model writes question/answer pairs for each chunk.

The teacher is any OpenAI-compatible endpoint the operator allows (`--teacher-url`, checked
against the outbound allow-list: see `ownllm.outbound`), or by default our own base model
in-process through the engine pool `ownllm serve` uses. Its replies are
parsed leniently (JSON lines, a JSON list, or `Q:`/`A:` lines), and everything it writes
still has to pass the grounding filter, because a small teacher invents freely.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Protocol

import httpx

from ownllm.chat.structured import schema_grammar
from ownllm.config import Settings
from ownllm.errors import InvalidInput
from ownllm.inference.engine import SamplingParams
from ownllm.inference.pool import EngineHandle
from ownllm.outbound import check_outbound_url
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

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> str:
        """The reply's text; with `schema`, a JSON value following it (by grammar, or `response_format`)."""
        ...


class HttpTeacher:
    """Any OpenAI-compatible `/chat/completions` endpoint that the operator's allow-list admits.

    Errors name the teacher and the HTTP status, never the reply body: the body of a URL a
    tenant chose must not come back to the tenant through a job error.
    """

    MAX_REPLY_BYTES = 1 << 20

    def __init__(self, base_url: str, model: str, settings: Settings, api_key: str | None = None,
                 timeout: float = 120.0) -> None:
        check_outbound_url(base_url, settings, param="teacher_url")
        self.name = f"{model}@{base_url}"
        self._model = model
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, follow_redirects=False,
                                    headers={"Authorization": f"Bearer {api_key}"} if api_key else {})

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {"model": self._model, "messages": messages, "temperature": 0.0, "max_tokens": 512}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "synth", "schema": schema}}
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    raise InvalidInput(f"teacher at {self.name} answered HTTP {response.status_code}",
                                       param="teacher_url")
                raw = b""
                for piece in response.iter_bytes():
                    raw += piece
                    if len(raw) > self.MAX_REPLY_BYTES:
                        raise InvalidInput(f"teacher at {self.name} sent a reply over 1 MB", param="teacher_url")
        except httpx.HTTPError as exc:
            raise InvalidInput(f"teacher at {self.name} is unreachable ({type(exc).__name__})",
                               param="teacher_url") from exc
        try:
            return json.loads(raw)["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"teacher at {self.name} did not answer in the chat completions shape",
                               param="teacher_url") from exc


class LocalTeacher:
    """A model of ours, in-process, through the engine pool."""

    def __init__(self, handle: EngineHandle, name: str, max_tokens: int = 384) -> None:
        self.name = name
        self._handle = handle
        self._params = SamplingParams(max_tokens=max_tokens, temperature=0.0)
        self._grammars: dict[str, str] = {}

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> str:
        params = self._params
        if schema is not None:
            key = json.dumps(schema, sort_keys=True)
            if key not in self._grammars:
                self._grammars[key] = schema_grammar(schema)
            params = replace(params, max_tokens=max(params.max_tokens, 640), grammar=self._grammars[key])
        return self._handle.chat(messages, params).text


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
