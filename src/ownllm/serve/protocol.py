"""The API's wire format: one pydantic model per request and response body, in OpenAI's shapes with
ownllm's extensions under the same conventions.

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
        """Role and text only, as chat templates want them (`developer` is a system turn)."""
        content = self.content
        if isinstance(content, list):
            content = "\n".join(part.text for part in content)
        return {"role": "system" if self.role == "developer" else self.role, "content": content or ""}


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
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[dict[str, Any]] | None = None  # ownllm extension, with `knowledge`


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: dict[str, Any]
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[dict[str, Any]] | None = None


# ---------------------------------------------------------------- models
class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ---------------------------------------------------------------- embeddings and search
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


class SearchFilterBody(Body):
    types: list[str] = Field(default_factory=list, max_length=32)
    file_glob: str | None = Field(None, max_length=256)
    lang: str | None = Field(None, max_length=8)


class SearchRequest(Body):
    query: str
    corpus: str = Field("latest", max_length=64)
    top_k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid"
    fusion: Literal["rrf", "weighted"] = "weighted"
    alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    filters: SearchFilterBody | None = None


class SearchList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]


class CorpusVersionObject(BaseModel):
    id: str
    object: Literal["corpus.version"] = "corpus.version"
    number: int
    documents: int
    created_at: int


class CorpusVersionList(BaseModel):
    object: Literal["list"] = "list"
    data: list[CorpusVersionObject]


# ---------------------------------------------------------------- files and jobs
class FileObject(BaseModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str = "knowledge"
    status: str
    status_details: str | None = None
    detected_type: str | None = None  # ownllm extensions from here on
    flags: list[str] = Field(default_factory=list)
    job_id: str | None = None


class FileList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FileObject]


class DeletedFileObject(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True
    derived: dict[str, Any]  # ownllm extension: what was made from this file, and what happened to it


class JobProgress(BaseModel):
    done: int
    total: int


class JobObject(BaseModel):
    id: str
    object: Literal["job"] = "job"
    kind: str
    status: str
    stage: str | None
    current_item: str | None
    progress: JobProgress
    created_at: int
    result: dict[str, Any] | None
    error: str | None


class JobEventObject(BaseModel):
    object: str = "job.event"
    id: int | str
    created_at: int
    level: str
    type: str
    message: str
    data: dict[str, Any]


class EventList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobEventObject]
    has_more: bool = False


# ---------------------------------------------------------------- fine-tuning
class Hyperparameters(Body):
    n_epochs: float | Literal["auto"] | None = Field(None)
    learning_rate_multiplier: float | Literal["auto"] | None = Field(None)
    batch_size: int | Literal["auto"] | None = Field(None)
    max_steps: int | None = Field(None, ge=1)  # ownllm extension

    @field_validator("n_epochs", "learning_rate_multiplier", "batch_size")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if value == "auto":
            return None
        if value is not None and value <= 0:
            raise ValueError("must be positive")
        return value


class FineTuningJobRequest(Body):
    model: str = Field(max_length=256)
    training_file: str | None = Field(None, max_length=64)  # a synth dataset id
    corpus_version: str | None = Field(None, max_length=64)  # or: synthesize from this version first
    method: dict[str, Any] | None = None
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = Field(None, max_length=40)
    seed: int | None = None
    recipe: str | None = Field(None, max_length=64)  # ownllm extension: a shipped recipe's name
    recipe_overrides: dict[str, Any] = Field(default_factory=dict, max_length=64)  # ownllm extension
    synth: dict[str, Any] = Field(default_factory=dict)  # ownllm extension: SynthConfig options


class FineTuningJob(BaseModel):
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    id: str
    model: str | None
    created_at: int
    finished_at: int | None
    fine_tuned_model: str | None
    organization_id: str | None
    status: str
    training_file: str | None
    validation_file: None = None
    hyperparameters: dict[str, Any]
    method: dict[str, Any]
    result_files: list[str] = Field(default_factory=list)
    trained_tokens: int | None
    seed: int | None
    error: dict[str, Any] | None
    estimated_finish: int | None = None
    integrations: list[Any] = Field(default_factory=list)
    progress: dict[str, Any]
    recipe: str | None
    loss_curve: str | None


class FineTuningJobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJob]
    has_more: bool = False


class Checkpoint(BaseModel):
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    id: str
    created_at: int
    fine_tuning_job_id: str
    step_number: int
    metrics: dict[str, Any]
    fine_tuned_model_checkpoint: str


class CheckpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Checkpoint]
    has_more: bool = False


# ---------------------------------------------------------------- evaluations
class EvalQuestion(Body):
    question: str = Field(min_length=1, max_length=4000)
    answer: str | list[str]
    source: str | None = Field(None, max_length=1024)


class EvalCreate(Body):
    models: list[str] | None = Field(None, max_length=8)
    dataset: str | None = "latest"
    questions: list[EvalQuestion] = Field(default_factory=list, max_length=2000)
    limit: int | None = Field(40, ge=1, le=2000)


class EvalObject(BaseModel):
    object: Literal["eval"] = "eval"
    id: str
    status: str
    created_at: int
    progress: dict[str, Any]
    models: list[str] | None
    summary: dict[str, Any] | None
    gate: list[dict[str, Any]] | None
    report_url: str | None
    error: str | None
