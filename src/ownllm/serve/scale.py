"""`ownllm serve --ray`: the same API as a Ray Serve application, autoscaled on ongoing requests.

Two deployments. `ApiReplica` runs the whole FastAPI application (auth, metering, limits, RAG, jobs, console)
in each replica; its state lives in the catalog (keys, usage, shared rate-limit counters, jobs), so any replica
can answer any request and limits hold across all of them. Replicas are added and removed by Ray Serve's
autoscaler from the ongoing requests per replica (`OWNLLM_SERVE_*` settings). `Router` is the HTTP ingress: it
reads which model a request names and routes it with `multiplexed_model_id`, so a tuned model's requests go to a
replica that already has that model loaded (each replica keeps its last `serve_models_per_replica` models, LRU;
the engine pool inside still bounds memory). Responses stream through unchanged (SSE included).

Ray Serve's HTTP proxy listens on `serve_port`; Ray's dashboard and job API, when this process starts Ray,
listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ownllm.config import Settings
from ownllm.jobs.ray_cluster import LOCAL_ONLY, ensure_ray

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
    """An ASGI HTTP scope from what the router forwarded."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request["method"],
            "scheme": "http", "path": request["path"], "raw_path": request["path"].encode(),
            "query_string": request["query"], "root_path": "", "headers": request["headers"],
            "client": request["client"], "server": (LOCAL_ONLY, 0), "state": {}}


async def run_asgi(app: Any, request: dict[str, Any]) -> AsyncIterator[Any]:
    """Run one request through an ASGI app in this process; yield (status, headers) first, then body pieces."""
    messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
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
        def __init__(self, api: Any, max_request_bytes: int) -> None:
            self.api = api
            self.max_request_bytes = max_request_bytes

        async def __call__(self, request: Request) -> Response:
            body = bytearray()
            async for piece in request.stream():
                body += piece
                if len(body) > self.max_request_bytes:
                    return JSONResponse(status_code=413, content={"error": {
                        "message": f"the request body is over {self.max_request_bytes} bytes",
                        "type": "invalid_request_error", "param": None, "code": "request_too_large"}})
            model = model_of(request.url.path, bytes(body), request.headers.get("content-type", ""))
            client = (request.client.host, request.client.port) if request.client else (LOCAL_ONLY, 0)
            forwarded = {"method": request.method, "path": request.url.path, "query": request.url.query.encode(),
                         "headers": list(request.headers.raw), "client": client, "body": bytes(body)}
            handle = self.api.options(stream=True, method_name="forward",
                                      **({"multiplexed_model_id": model} if model else {}))
            pieces = handle.remote(forwarded)
            status, headers = await pieces.__anext__()

            async def rest() -> AsyncIterator[bytes]:
                async for piece in pieces:
                    yield piece

            response = StreamingResponse(rest(), status_code=status)
            response.raw_headers = [(bytes(k), bytes(v)) for k, v in headers]
            return response

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
    return router.bind(api.bind(settings.model_dump_json()), settings.max_request_bytes)


def start(settings: Settings, host: str = LOCAL_ONLY, port: int | None = None, *, blocking: bool = False) -> Any:
    """Deploy the API on Ray Serve (joining or starting Ray); returns the application's handle."""
    ensure_ray(settings, dashboard=True)
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
