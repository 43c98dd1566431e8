"""The API's wire format: one pydantic model per request and response body, in OpenAI's shapes with
ownllm's extensions under the same conventions. Chat, completions and embeddings come from
`ownllm.openai_schema` (the batch job parses them too); the rest is defined here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ownllm.openai_schema import (  # noqa: F401 - re-exported for the routes
    AssistantMessage,
    Body,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    CompletionRequest,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    Knowledge,
    StreamOptions,
    TextPart,
    Usage,
)


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


class BatchCreate(Body):
    model_config = ConfigDict(extra="allow")
    input_file_id: str = Field(max_length=64)
    endpoint: Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
    completion_window: Literal["24h"] = "24h"
    metadata: dict[str, str] | None = Field(None, max_length=16)
