"""`ownllm serve --ray`: the same API as a Ray Serve application, autoscaled on ongoing requests.

Two deployments. `ApiReplica` runs the whole FastAPI application (auth, metering, limits, RAG, jobs, console)
in each replica; its state lives in the catalog (keys, usage, shared rate-limit counters, jobs), so any replica
can answer any request and limits hold across all of them. Replicas are added and removed by Ray Serve's
autoscaler from the ongoing requests per replica (`OWNLLM_SERVE_*` settings). `Router` is the HTTP ingress: it
reads which model a request names and routes it with `multiplexed_model_id`, so a tuned model's requests go to a
replica that already has that model loaded (each replica keeps its last `serve_models_per_replica` models, LRU;
the engine pool inside still bounds memory). Responses stream through unchanged (SSE included).

Ray Serve's HTTP proxy listens on `serve_port`; Ray's dashboard and job API, when this process starts Ray, are
off unless `OWNLLM_RAY_DASHBOARD=true`, and then listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ownllm.config import Settings
from ownllm.jobs.ray_cluster import LOCAL_ONLY, ensure_ray
from ownllm.serve.errors import domain_error_response
from ownllm.serve.limits import body_limit, too_large

APPLICATION = "ownllm"
REPLICA_HEADER = b"x-ownllm-replica"
# requests whose JSON body names the model that answers them (the rest route anywhere)
MODEL_ROUTES = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/apps/")


def model_of(path: str, body: bytes, content_type: str) -> str:
    """The model a request names, for routing; "" when it names none or is not JSON."""
    if not path.startswith(MODEL_ROUTES) or "json" not in content_type or not body:
        return ""
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
            return parsed["model"][:200]
    return ""


def asgi_scope(request: dict[str, Any]) -> dict[str, Any]:
    """An ASGI HTTP scope from what the router forwarded: the proxy's own scope fields, unchanged (scheme for
    secure cookies, the raw path and query as the client sent them), with a fresh state."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", **request["scope"], "state": {}}


FORWARDED_SCOPE = ("method", "scheme", "path", "raw_path", "query_string", "root_path", "headers", "client", "server")


async def run_asgi(app: Any, request: dict[str, Any]) -> AsyncIterator[Any]:
    """Run one request through an ASGI app in this process; yield (status, headers) first, then body pieces."""
    messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=8)  # a slow client slows the app
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request["body"], "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until this request is cancelled
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await messages.put(message)

    async def run() -> None:
        try:
            await app(asgi_scope(request), receive, send)
        finally:
            await messages.put(None)

    task = asyncio.create_task(run())
    try:
        while (message := await messages.get()) is not None:
            if message["type"] == "http.response.start":
                yield message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body"):
                    break
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def build_application(settings: Settings) -> Any:
    """The Ray Serve application for these settings (deployment options come from them)."""
    from ray import serve

    class ApiReplica:
        def __init__(self, settings_json: str) -> None:
            from ownllm.serve.app import create_app

            own = Settings.model_validate_json(settings_json)
            if own.n_threads is None:  # decode on the CPUs Ray gave this replica: replicas must not oversubscribe
                own = own.model_copy(update={"n_threads": own.serve_replica_cpus})
            self.app = create_app(own)
            self.replica = serve.get_replica_context().replica_id.unique_id

        def __del__(self) -> None:
            """Ray Serve ends a replica (scale-down): write out its metered usage and free its engines. Its job
            processes run on to their end; jobs it queued but never started are failed with "submit again" by
            the next server on this host (see `fail_stale_queued`)."""
            with contextlib.suppress(Exception):
                self.app.state.usage_writer.close()
            with contextlib.suppress(Exception):
                self.app.state.runtime.pool.close()

        @serve.multiplexed(max_num_models_per_replica=settings.serve_models_per_replica)
        async def routed_model(self, model_id: str) -> str:
            """Marks this replica as holding `model_id` (the engine itself loads on first use, in the pool)."""
            return model_id

        async def forward(self, request: dict[str, Any]) -> AsyncIterator[Any]:
            model = serve.get_multiplexed_model_id()
            if model:
                await self.routed_model(model)
            async for piece in run_asgi(self.app, request):
                if isinstance(piece, tuple):  # which replica answered: for operators and the scaling test
                    piece = piece[0], [*piece[1], (REPLICA_HEADER, self.replica.encode())]
                yield piece

    class Router:
        def __init__(self, api: Any, settings_json: str) -> None:
            self.api = api
            self.settings = Settings.model_validate_json(settings_json)

        async def __call__(self, request: Request) -> Response:
            limit = body_limit(self.settings, request.scope)
            declared = request.headers.get("content-length", "")
            body = bytearray()
            if not (declared.isdigit() and int(declared) > limit):
                async for piece in request.stream():
                    body += piece
                    if len(body) > limit:
                        break
            if len(body) > limit or (declared.isdigit() and int(declared) > limit):
                return domain_error_response(too_large(limit))
            model = model_of(request.url.path, bytes(body), request.headers.get("content-type", ""))
            scope = {key: request.scope[key] for key in FORWARDED_SCOPE if key in request.scope}
            scope["headers"] = [(bytes(k), bytes(v)) for k, v in scope.get("headers", [])]
            handle = self.api.options(stream=True, method_name="forward",
                                      **({"multiplexed_model_id": model} if model else {}))
            pieces = handle.remote({"scope": scope, "body": bytes(body)})
            status, headers = await pieces.__anext__()
            response = StreamingResponse(pieces, status_code=status)  # the body pieces that follow
            response.raw_headers = [(bytes(k), bytes(v)) for k, v in headers]
            return response

    # more than one replica: limits, quotas and the sign-in throttle must be counted in the catalog, or each
    # replica would grant a tenant its whole limit again
    replica_settings = settings
    if settings.serve_max_replicas > 1 and not settings.shared_rate_limits:
        replica_settings = settings.model_copy(update={"shared_rate_limits": True})
    autoscaling = {"min_replicas": settings.serve_min_replicas,
                   "max_replicas": max(settings.serve_min_replicas, settings.serve_max_replicas),
                   "target_ongoing_requests": settings.serve_target_ongoing_requests,
                   "upscale_delay_s": settings.serve_upscale_delay_s,
                   "downscale_delay_s": settings.serve_downscale_delay_s,
                   "look_back_period_s": settings.serve_look_back_s}
    api = serve.deployment(ApiReplica, name="ApiReplica", autoscaling_config=autoscaling,
                           ray_actor_options={"num_cpus": settings.serve_replica_cpus},
                           max_ongoing_requests=settings.serve_max_ongoing_requests)
    router = serve.deployment(Router, name="Router", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
    return router.bind(api.bind(replica_settings.model_dump_json()), settings.model_dump_json())


def start(settings: Settings, host: str = LOCAL_ONLY, port: int | None = None, *, blocking: bool = False) -> Any:
    """Deploy the API on Ray Serve (joining or starting Ray); returns the application's handle."""
    ensure_ray(settings, dashboard=settings.ray_dashboard)
    from ray import serve

    serve.start(http_options={"host": host, "port": port or settings.serve_port})
    return serve.run(build_application(settings), name=APPLICATION, route_prefix="/", blocking=blocking)


def replica_count() -> int:
    """Running API replicas of the deployed application (what the autoscaler chose)."""
    from ray import serve

    deployment = serve.status().applications[APPLICATION].deployments["ApiReplica"]
    return int(deployment.replica_states.get("RUNNING", 0))


def stop() -> None:
    from ray import serve

    serve.shutdown()
