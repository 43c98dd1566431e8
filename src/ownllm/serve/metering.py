"""Metering: every authenticated request becomes a usage record (tenant, key, model, endpoint, tokens,
latency, time to first token, status), is charged against the rate limits it was admitted under, and
updates the Prometheus metrics.

Routes say what they spent with `spent()`; the `Meter` middleware writes the record once the
response (a stream too) has ended, off the request path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ownllm.serve.ratelimit import Admission, Limit
from ownllm.store.keys import KeyOwner
from ownllm.store.tenants import tenant_settings
from ownllm.store.usage import Usage


@dataclass
class Spent:
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_at: float | None = None  # time.monotonic() when the first token was ready
    cpu_seconds: float = 0.0


def spent(request: Request, model: str | None, prompt_tokens: int = 0, completion_tokens: int = 0,
          first_token_at: float | None = None, cpu_seconds: float = 0.0) -> None:
    request.state.spent = Spent(model, prompt_tokens, completion_tokens, first_token_at, cpu_seconds)


def admit(request: Request, owner: KeyOwner) -> None:
    """Admit the request under the key's and the tenant's limits (429 when over), remember for charging."""
    app = request.app
    settings = app.state.runtime.home.settings
    configured = app.state.tenant_limits(owner.tenant_id)
    limits = [
        Limit(f"key:{owner.key_id}", owner.requests_per_minute, owner.tokens_per_minute),
        Limit(f"tenant:{owner.tenant_id}", configured.requests_per_minute or settings.default_requests_per_minute,
              configured.tokens_per_minute or settings.default_tokens_per_minute),
    ]
    limits = [lim for lim in limits if lim.requests_per_minute is not None or lim.tokens_per_minute is not None]
    monthly = configured.monthly_tokens if configured.monthly_tokens is not None else settings.default_monthly_tokens
    request.state.admission = app.state.limiter.admit(owner.tenant_id, limits, monthly)


def tenant_limits_cache(home: Any, ttl_s: float = 5.0) -> Any:
    """Tenant rate-limit settings, re-read at most every `ttl_s` (a settings change applies within it)."""
    cache: dict[str, tuple[float, Any]] = {}

    def lookup(tenant_id: str) -> Any:
        now = time.monotonic()
        hit = cache.get(tenant_id)
        if hit is None or now - hit[0] > ttl_s:
            hit = (now, tenant_settings(home, tenant_id).rate_limits)
            cache[tenant_id] = hit
        return hit[1]

    return lookup


class Meter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500
        state = scope.setdefault("state", {})

        async def metered_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                admission: Admission | None = state.get("admission")
                if admission is not None and admission.headers:
                    message["headers"] = [*message.get("headers", []),
                                          *((k.encode(), v.encode()) for k, v in admission.headers.items())]
            await send(message)

        try:
            await self.app(scope, receive, metered_send)
        finally:
            self._record(scope, state, status, started)

    @staticmethod
    def _record(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        owner: KeyOwner | None = state.get("owner")
        usage_spent: Spent | None = state.get("spent")
        app = scope["app"]
        route = scope.get("route")
        endpoint = getattr(route, "path", scope.get("path", ""))
        latency = time.monotonic() - started
        metrics = getattr(app.state, "metrics", None)
        if metrics is not None:
            metrics.observe_request(endpoint, status, latency, usage_spent, started)
        if owner is None or not owner.tenant_id:
            return
        usage_spent = usage_spent or Spent()
        ttft = (usage_spent.first_token_at - started) * 1000 if usage_spent.first_token_at else None
        app.state.usage_writer.record(Usage(
            tenant_id=owner.tenant_id, key_id=owner.key_id, model=usage_spent.model, endpoint=endpoint[:64],
            status=status, prompt_tokens=usage_spent.prompt_tokens, completion_tokens=usage_spent.completion_tokens,
            latency_ms=round(latency * 1000, 2), ttft_ms=round(ttft, 2) if ttft is not None else None,
            cpu_seconds=round(usage_spent.cpu_seconds, 4)))
        admission: Admission | None = state.get("admission")
        if admission is not None:
            app.state.limiter.charge(admission, usage_spent.prompt_tokens + usage_spent.completion_tokens)
