"""Request bodies of the OpenAI-compatible API, plus ownllm's extensions under the same conventions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def plain(self) -> dict[str, Any]:
        """The message as llama.cpp's chat template wants it: role and text only."""
        content = self.content
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content if part.get("type") == "text")
        role = "system" if self.role == "developer" else self.role
        return {"role": role, "content": content or ""}


class Knowledge(BaseModel):
    """ownllm extension: answer from the tenant's corpus and return citations."""

    model_config = ConfigDict(extra="forbid")
    corpus: str = "latest"
    top_k: int = Field(default=5, ge=1, le=50)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    knowledge: Knowledge | None = None

    @property
    def token_limit(self) -> int:
        return self.max_completion_tokens or self.max_tokens or 256

    @property
    def stop_list(self) -> list[str] | None:
        return [self.stop] if isinstance(self.stop, str) else self.stop


class SearchFilterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    types: list[str] = Field(default_factory=list)
    file_glob: str | None = None
    lang: str | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    corpus: str = "latest"
    top_k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid"
    fusion: Literal["rrf", "weighted"] = "weighted"
    alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    filters: SearchFilterBody | None = None


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    input_type: Literal["query", "passage"] = "passage"  # ownllm extension: E5's two sides
