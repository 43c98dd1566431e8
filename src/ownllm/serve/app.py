"""The FastAPI application: one runtime (home, engine pool, job runner) per process, OpenAI-shaped
everywhere. Middleware order, outermost first: request id → catch-all 500 (connection kept) →
body-size cap → routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ownllm import __version__
from ownllm.config import Settings
from ownllm.inference.pool import EnginePool
from ownllm.jobs.runner import JobRunner, fail_stale_queued
from ownllm.jobs.tracker import mark_interrupted
from ownllm.serve.auth import AuthThrottle
from ownllm.serve.errors import CatchAll, install_error_handlers
from ownllm.serve.limits import BodyLimit
from ownllm.serve.routes import chat, evals, files, fine_tuning, models, retrieval
from ownllm.services.runtime import Runtime
from ownllm.store.home import open_home


class RequestId:
    """Echo the client's `x-request-id` (or make one) on every response, for logs and support."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        request_id = given[:64] if given and given.isascii() else f"req_{uuid.uuid4().hex}".encode()

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, tagged)


def create_app(settings: Settings | None = None, *, pool: EnginePool | None = None,
               job_runner: str | None = None) -> FastAPI:
    """`pool` and `job_runner` let in-process tests use a fake engine and thread-mode jobs."""
    home = open_home(settings)
    settings = home.settings
    pool = pool or EnginePool(settings.engine_memory_mb << 20, settings.engine_queue,
                              idle_wait_s=settings.engine_idle_wait_s)
    mark_interrupted(home)
    fail_stale_queued(home)
    runtime = Runtime(home, pool, JobRunner(home, job_runner))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.require_runner().close()
        pool.close()
        home.close()

    app = FastAPI(title="ownllm", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if settings.public_openapi else None)
    app.state.runtime = runtime
    app.state.auth_throttle = AuthThrottle(settings.auth_failures_per_minute)
    install_error_handlers(app)
    for module in (models, chat, retrieval, files, fine_tuning, evals):
        app.include_router(module.router)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(CatchAll)
    app.add_middleware(RequestId)
    return app
