"""Settings read from the environment, so a deployment changes behaviour without code.

`OWNLLM_HOME` holds the catalog and the blob store; `OWNLLM_DATABASE_URL` moves the
catalog elsewhere (e.g. PostgreSQL) while blobs stay under the home.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
