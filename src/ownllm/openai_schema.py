"""The OpenAI wire format ownllm speaks, as pydantic models: chat completions, text completions and
embeddings, requests and responses. It sits at the bottom of the layers because two callers parse
it: the API routes, and the batch job that runs an uploaded JSONL of the same requests.

Every request model refuses what would otherwise become a 500 deeper down: a string holding a lone
UTF-16 surrogate (valid JSON, unencodable as UTF-8), a content part whose text is not a string,
values out of range. The error is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ownllm.text import has_lone_surrogate


def _surrogate_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if has_lone_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _surrogate_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


class Body(BaseModel):
    """A request body: unknown keys refused unless a model allows them; no unencodable text anywhere."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        found = _surrogate_path(data, "")
        if found:
            raise ValueError(f"{found} holds a lone UTF-16 surrogate, which is not valid Unicode text")
        return data


# ---------------------------------------------------------------- chat and completions
class TextPart(Body):
    type: Literal["text"]
    text: str


class ChatMessage(Body):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = Field(None, max_length=64)

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts_only(cls, value: Any) -> Any:
        if isinstance(value, list):
            for index, part in enumerate(value):
                if isinstance(part, dict) and part.get("type") not in ("text", None):
                    raise ValueError(f"content[{index}]: only text parts are supported, not {part.get('type')!r}")
        return value

    def plain(self) -> dict[str, Any]:
        """Role and text as chat templates want them (`developer` is a system turn), plus tool calls and results."""
        content = self.content
        if isinstance(content, list):
            content = "\n".join(part.text for part in content)
        out: dict[str, Any] = {"role": "system" if self.role == "developer" else self.role, "content": content or ""}
        extra = self.model_extra or {}
        if self.role == "assistant" and isinstance(extra.get("tool_calls"), list):
            out["tool_calls"] = extra["tool_calls"]
        if self.role == "tool":
            out["tool_call_id"] = extra.get("tool_call_id")
            if self.name:
                out["name"] = self.name
        return out


class Knowledge(Body):
    """ownllm extension: answer from the tenant's corpus and return citations."""

    corpus: str = Field("latest", max_length=64)
    top_k: int = Field(default=5, ge=1, le=50)


class StreamOptions(Body):
    include_usage: bool = False


class ChatCompletionRequest(Body):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we ignore (user, metadata…)
    model: str = Field(max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1024)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    knowledge: Knowledge | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = Field(None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None  # accepted; one call per turn is made
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported: send separate requests for more choices")
        return value

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and (len(value) > 4 or any(not s or len(s) > 200 for s in value)):
            raise ValueError("at most 4 stop sequences of 1 to 200 characters")
        return value

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def stop_tuple(self) -> tuple[str, ...] | None:
        if self.stop is None:
            return None
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int = 0
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str
    logprobs: dict[str, Any] | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[dict[str, Any]] | None = None  # ownllm extension, with `knowledge`


class EmbeddingRequest(Body):
    model_config = ConfigDict(extra="allow")
    model: str = Field(max_length=256)
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    input_type: Literal["query", "passage"] = "passage"  # ownllm extension: E5's two sides


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage


class CompletionRequest(Body):
    model_config = ConfigDict(extra="allow")
    model: str = Field(max_length=256)
    prompt: str | list[str]
    max_tokens: int | None = Field(16, ge=1)  # OpenAI's default for completions
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    logprobs: int | None = Field(None, ge=0, le=5)
    echo: bool = False
    suffix: str | None = None

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported: send separate requests for more choices")
        return value

    @field_validator("echo")
    @classmethod
    def _no_echo(cls, value: bool) -> bool:
        if value:
            raise ValueError("echo is not supported")
        return value

    @field_validator("suffix")
    @classmethod
    def _no_suffix(cls, value: str | None) -> str | None:
        if value:
            raise ValueError("suffix (fill-in-the-middle) is not supported")
        return value

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and len(value) != 1:
            raise ValueError("send one prompt per request (a list of exactly one string)")
        return value

    @property
    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    @property
    def stop_tuple(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
