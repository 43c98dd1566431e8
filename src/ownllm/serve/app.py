"""The FastAPI application: one runtime (home, engine pool, job runner) per process, OpenAI-shaped
everywhere. Middleware, outermost first: request id (and access log) → catch-all 500 (connection
kept) → metering (usage, limits' headers, metrics) → body-size cap → routes."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ownllm import __version__
from ownllm.config import Settings
from ownllm.errors import Unauthenticated
from ownllm.inference.pool import EnginePool
from ownllm.jobs.ray_cluster import ensure_ray, on_ray
from ownllm.jobs.runner import JobRunner, fail_stale_queued
from ownllm.jobs.tracker import mark_interrupted
from ownllm.models.registry import list_models
from ownllm.retrieval.tokenize import warm_up
from ownllm.serve import console
from ownllm.serve.auth import make_auth_throttle, require_key
from ownllm.serve.errors import CatchAll, install_error_handlers
from ownllm.serve.limits import BodyLimit
from ownllm.serve.logs import configure_logging, request_id_var
from ownllm.serve.metering import Meter, tenant_limits_cache
from ownllm.serve.metrics import Metrics
from ownllm.serve.ratelimit import make_rate_limiter
from ownllm.serve.routes import (
    admin,
    apps,
    batches,
    chat,
    completions,
    evals,
    files,
    fine_tuning,
    models,
    retrieval,
    usage,
)
from ownllm.services.runtime import Runtime
from ownllm.store.home import open_home
from ownllm.store.usage import UsageWriter

access_log = logging.getLogger("ownllm.access")


class RequestId:
    """Echo the client's `x-request-id` (or make one) on every response, and log each request once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        request_id = given[:64] if given and given.isascii() else f"req_{uuid.uuid4().hex}".encode()
        token = request_id_var.set(request_id.decode())
        started, status = time.monotonic(), 0

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            owner = scope.get("state", {}).get("owner")
            access_log.info("%s %s %s", scope.get("method"), scope.get("path"), status, extra={
                "status": status, "latency_ms": round((time.monotonic() - started) * 1000, 1),
                "tenant": getattr(owner, "tenant_name", None)})
            request_id_var.reset(token)


def create_app(settings: Settings | None = None, *, pool: EnginePool | None = None,
               job_runner: str | None = None) -> FastAPI:
    """`pool` and `job_runner` let in-process tests use a fake engine and thread-mode jobs."""
    home = open_home(settings)
    settings = home.settings
    configure_logging(settings.log_format)
    pool = pool or EnginePool(settings.engine_memory_mb << 20, settings.engine_queue,
                              idle_wait_s=settings.engine_idle_wait_s)
    mark_interrupted(home)
    fail_stale_queued(home)
    if on_ray(settings):  # join (or start) Ray here, so job processes join this instance instead of each starting one
        ensure_ray(settings)
    runtime = Runtime(home, pool, JobRunner(home, job_runner))
    writer = UsageWriter(home)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
        yield  # on shutdown uvicorn has already let in-flight requests finish (timeout_graceful_shutdown)
        runtime.require_runner().close()
        writer.close()
        pool.close()
        home.close()

    app = FastAPI(title="ownllm", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if settings.public_openapi else None)
    app.state.runtime = runtime
    app.state.auth_throttle = make_auth_throttle(home)
    app.state.limiter = make_rate_limiter(home)
    app.state.tenant_limits = tenant_limits_cache(home)
    app.state.usage_writer = writer
    app.state.metrics = Metrics(pool, runtime.runner)
    install_error_handlers(app)
    for module in (models, chat, completions, retrieval, files, batches, fine_tuning, evals, usage, admin, apps):
        app.include_router(module.router)
    console.mount(app)
    _operations(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(Meter)
    app.add_middleware(CatchAll)
    app.add_middleware(RequestId)
    return app


def _operations(app: FastAPI) -> None:
    @app.get("/health")
    @app.get("/healthz")
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz")
    def ready(request: Request) -> JSONResponse:
        """Readiness: the catalog answers, a model is installed and its file readable, jobs can start."""
        runtime: Runtime = request.app.state.runtime
        checks: dict[str, Any] = {}
        try:
            with runtime.home.catalog.session() as session:
                session.execute(text("SELECT 1"))
            checks["catalog"] = "ok"
        except Exception as exc:
            checks["catalog"] = f"error: {type(exc).__name__}"
        installed = list_models(None)
        readable = [m.id for m in installed if m.path.is_file() and m.path.open("rb").read(4) == b"GGUF"]
        checks["models"] = readable or "error: no installed model is readable"
        runner = runtime.runner
        checks["jobs"] = "ok" if runner is not None and runner.alive else "error: the job runner stopped"
        ok = checks["catalog"] == "ok" and bool(readable) and checks["jobs"] == "ok"
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        settings = request.app.state.runtime.home.settings
        if not settings.public_metrics:
            owner = require_key(request)
            if not owner.is_admin:
                raise Unauthenticated("/metrics needs the admin key (or OWNLLM_PUBLIC_METRICS=true)")
        return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
