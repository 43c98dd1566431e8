"""What a running ownllm process holds besides its home: the engine pool and, in a server, the
background job runner. The API keeps one `Runtime` for its lifetime; the CLI makes one per command."""

from __future__ import annotations

from dataclasses import dataclass

from ownllm.inference.pool import EnginePool, shared_pool
from ownllm.jobs.runner import JobRunner
from ownllm.store.home import Home


@dataclass
class Runtime:
    home: Home
    pool: EnginePool
    runner: JobRunner | None = None  # None: jobs run in the caller's process (the CLI)

    @classmethod
    def for_cli(cls, home: Home) -> Runtime:
        settings = home.settings
        return cls(home, shared_pool(settings.engine_memory_mb, settings.engine_queue, settings.engine_idle_wait_s))

    def require_runner(self) -> JobRunner:
        if self.runner is None:
            raise RuntimeError("this process runs no background jobs")
        return self.runner
