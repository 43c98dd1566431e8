"""Settings read from the environment, so a deployment changes behaviour without code.

`OWNLLM_HOME` holds the catalog and the blob store; `OWNLLM_DATABASE_URL` moves the
catalog elsewhere (e.g. PostgreSQL) while blobs stay under the home. Every cap that protects
the server from one caller (input sizes, queue depth, memory, jobs) is a setting here, so an
operator can see and change them in one place (README, "Security").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1 << 20


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNLLM_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".ownllm")
    database_url: str | None = None
    # Chunks are cut at this many (approximate) tokens; small enough that five fit a 4k context.
    chunk_tokens: int = 220
    chunk_overlap_tokens: int = 30
    # Context window for the serving engine.
    n_ctx: int = 4096
    n_threads: int | None = None
    # parser worker processes per ingest job
    ingest_workers: int = 2

    # --- inference: loaded engines are bounded by memory, requests by a queue per engine
    engine_memory_mb: int = Field(4096, ge=64)  # all loaded models and adapters together
    engine_queue: int = Field(32, ge=1)  # waiting requests per engine; one more gets 503
    engine_slots: int = Field(4, ge=1, le=64)  # requests decoded together per model (continuous batching)
    # a tuned model's context: fewer slots, since each slot's KV cache is what an extra adapter costs
    engine_adapter_slots: int = Field(1, ge=1, le=64)
    engine_idle_wait_s: float = Field(5.0, ge=0.0)  # how long a load waits for a busy engine to free memory
    # a strong reader's grounded answer is checked against its passages before it is given (chat/answer_check.py)
    answer_check: bool = True
    # the checker's P(yes) below this declines the answer (0.5 would be its greedy verdict); 0.4 scored best
    # over SQuAD, DRCD and the sample company together (bench/answer_check.py): lower answers more, higher declines more
    answer_check_threshold: float = Field(0.4, ge=0.0, le=1.0)
    # a streamed response that has sent nothing for this long gets an SSE comment line, so proxies with an
    # idle timeout (nginx: 60 s) keep it open while it is queued or its answer is being checked; 0: never
    stream_keepalive_s: float = Field(15.0, ge=0.0)

    # --- input caps (characters unless named bytes); over a cap is a 400/413 naming the field
    max_request_bytes: int = Field(8 * MB, ge=1024)  # any JSON body
    max_upload_bytes: int = Field(256 * MB, ge=1024)  # one uploaded file, checked while it streams in
    max_query_chars: int = Field(4000, ge=16)  # search queries and the question RAG retrieves with
    max_message_chars: int = Field(200_000, ge=16)  # all messages of one chat request together
    max_embedding_input_chars: int = Field(8192, ge=16)  # one embeddings input
    max_embedding_inputs: int = Field(2048, ge=1)
    max_tune_steps: int = Field(5000, ge=1)  # per stage, for jobs created over the API

    # --- authentication: wrong secrets are throttled before argon2 runs
    auth_failures_per_minute: int = Field(10, ge=1)  # per key id and per client address

    # --- jobs: background work runs in worker processes, bounded per tenant and in total
    job_runner: Literal["process", "thread"] = "process"
    job_workers: int = Field(2, ge=1)  # jobs running at once in one server
    jobs_per_tenant: int = Field(4, ge=1)  # queued + running jobs a tenant may have
    job_memory_mb: int = Field(12288, ge=256)  # address-space cap of each job process

    # --- models: the installation's default reader and teacher (None: the strongest installed; see
    # `ownllm models`); a tenant's own choice (settings `models`) comes first
    default_reader: str | None = None
    default_teacher: str | None = None

    # --- outbound HTTP (teacher models, future webhooks): only to these URL prefixes
    outbound_allow: list[str] = Field(default_factory=list)
    outbound_allow_private: bool = False  # loopback/private/link-local addresses need this too

    # --- API surface
    public_openapi: bool = True  # /openapi.json without a key (it lists routes, never data)
    public_metrics: bool = False  # /metrics without the admin key (off: labels name models and endpoints)
    admin_key: str | None = Field(None, min_length=32)  # manages tenants and keys over /v1/admin
    log_format: Literal["text", "json"] = "text"

    # --- limits and quotas every tenant gets unless its settings say otherwise (None: unlimited)
    default_requests_per_minute: int | None = Field(None, ge=1)
    default_tokens_per_minute: int | None = Field(None, ge=1)
    default_monthly_tokens: int | None = Field(None, ge=0)
    # rate-limit counters in the catalog, shared by every server process (None: yes on PostgreSQL, else in
    # process, which spares one database round trip per request when there is one server)
    shared_rate_limits: bool | None = None
    # the cost report's price table: {"model or job kind": {"prompt": per 1k, "completion": per 1k,
    # "cpu_second": per second}}; "*" applies to anything not named
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)

    # --- scale-out (`ownllm[scale]`): where blobs live and where jobs and replicas run
    # blobs: None keeps them under the home; `s3://bucket/prefix` puts them in an S3-compatible store
    # (endpoint and credentials from `blob_endpoint_url` and the usual AWS_* variables)
    blob_url: str | None = None
    blob_endpoint_url: str | None = None
    # "ray": ingest parses with Ray Data and tuning trains with Ray Train (`OWNLLM_RUNNER`)
    runner: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # None: a Ray instance of this process's own, on this machine
    ray_workers: int = Field(2, ge=1)  # parse tasks at once and training workers (DDP) on Ray
    # Ray's dashboard and job API (only when this process starts Ray; always on 127.0.0.1): they run code for
    # whoever reaches them, so they are off unless asked for
    ray_dashboard: bool = False
    # `ownllm serve --ray`: replicas of the API, scaled on ongoing requests per replica
    serve_min_replicas: int = Field(1, ge=1)
    serve_max_replicas: int = Field(2, ge=1)
    serve_target_ongoing_requests: float = Field(2.0, gt=0)
    serve_upscale_delay_s: float = Field(3.0, ge=0)
    serve_downscale_delay_s: float = Field(20.0, ge=0)
    serve_look_back_s: float = Field(10.0, gt=0)  # ongoing requests are averaged over this window
    serve_models_per_replica: int = Field(3, ge=1)  # models a replica keeps routed to it (LRU)
    # requests one replica takes at once; beyond it, requests for a model go to another replica (and load it)
    serve_max_ongoing_requests: int = Field(8, ge=1)
    # CPUs Ray reserves for each replica; its engines decode with that many threads (unless OWNLLM_N_THREADS says)
    serve_replica_cpus: int = Field(1, ge=1)
    serve_port: int = Field(8000, ge=1, le=65535)

    @property
    def model_cache(self) -> Path:
        return self.home / "models"

    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'catalog.db'}"

    @property
    def blob_root(self) -> Path:
        return self.home / "blobs"

    @property
    def index_root(self) -> Path:
        return self.home / "indexes"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process; tests call `get_settings.cache_clear()` after changing the environment."""
    return Settings()
