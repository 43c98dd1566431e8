"""Per-key and per-tenant limits on requests and tokens per minute, and a monthly token quota per
tenant, kept in process (sliding one-minute windows; the quota starts from the usage table).

Over a limit is a 429 with `Retry-After`; every limited response carries OpenAI's
`x-ratelimit-limit|remaining|reset-requests|tokens` headers for the tightest limit. Tokens are
charged when a request finishes (they are only known then), so a burst can pass a token limit by
one request's worth. Each server process counts on its own; the scale-out issue moves these
counters into PostgreSQL so replicas share them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ownllm.errors import RateLimited
from ownllm.store.home import Home
from ownllm.store.usage import month_start, tokens_since

WINDOW_S = 60.0


@dataclass
class _Window:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)

    def trim(self, now: float) -> None:
        while self.requests and now - self.requests[0] >= WINDOW_S:
            self.requests.popleft()
        while self.tokens and now - self.tokens[0][0] >= WINDOW_S:
            self.tokens.popleft()

    def token_sum(self) -> int:
        return sum(n for _, n in self.tokens)


@dataclass(frozen=True)
class Limit:
    subject: str  # "key:…" or "tenant:…"
    requests_per_minute: int | None
    tokens_per_minute: int | None


@dataclass
class Admission:
    """What one request was admitted under: the limits to charge later and the headers to send."""

    limits: list[Limit]
    tenant_id: str
    headers: dict[str, str]


def _reset(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds:.0f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60)}s"


class RateLimiter:
    def __init__(self, home: Home) -> None:
        self.home = home
        self._windows: dict[str, _Window] = {}
        self._quota: dict[str, tuple[object, int]] = {}  # tenant -> (month start, tokens used)
        self._lock = threading.Lock()

    def _quota_used(self, tenant_id: str) -> int:
        month = month_start()
        with self._lock:
            cached = self._quota.get(tenant_id)
        if cached is None or cached[0] != month:
            used = tokens_since(self.home, tenant_id, month)  # read once a month per process
            with self._lock:
                self._quota[tenant_id] = (month, used)
            return used
        return cached[1]

    def admit(self, tenant_id: str, limits: list[Limit], monthly_tokens: int | None) -> Admission:
        if monthly_tokens is not None and self._quota_used(tenant_id) >= monthly_tokens:
            raise RateLimited(f"this tenant has used its monthly quota of {monthly_tokens} tokens",
                              retry_after=3600.0, code="insufficient_quota")
        now = time.monotonic()
        headers: dict[str, str] = {}
        with self._lock:
            windows = [(limit, self._windows.setdefault(limit.subject, _Window())) for limit in limits]
            for limit, window in windows:
                window.trim(now)
                if limit.requests_per_minute is not None and len(window.requests) >= limit.requests_per_minute:
                    wait = WINDOW_S - (now - window.requests[0])
                    raise RateLimited(f"rate limit of {limit.requests_per_minute} requests per minute reached "
                                      f"({limit.subject.split(':')[0]})", retry_after=wait)
                if limit.tokens_per_minute is not None and window.token_sum() >= limit.tokens_per_minute:
                    wait = WINDOW_S - (now - window.tokens[0][0])
                    raise RateLimited(f"rate limit of {limit.tokens_per_minute} tokens per minute reached "
                                      f"({limit.subject.split(':')[0]})", retry_after=wait)
            for _, window in windows:
                window.requests.append(now)
            headers = self._headers(windows, now)
        return Admission(limits, tenant_id, headers)

    @staticmethod
    def _headers(windows: list[tuple[Limit, _Window]], now: float) -> dict[str, str]:
        headers: dict[str, str] = {}
        requests = [(lim.requests_per_minute - len(w.requests), lim.requests_per_minute, w)
                    for lim, w in windows if lim.requests_per_minute is not None]
        if requests:
            remaining, limit, window = min(requests, key=lambda item: item[0])
            headers.update({"x-ratelimit-limit-requests": str(limit),
                            "x-ratelimit-remaining-requests": str(max(0, remaining)),
                            "x-ratelimit-reset-requests": _reset(WINDOW_S - (now - window.requests[0]))})
        tokens = [(lim.tokens_per_minute - w.token_sum(), lim.tokens_per_minute, w)
                  for lim, w in windows if lim.tokens_per_minute is not None]
        if tokens:
            remaining, limit, window = min(tokens, key=lambda item: item[0])
            reset = WINDOW_S - (now - window.tokens[0][0]) if window.tokens else 0.0
            headers.update({"x-ratelimit-limit-tokens": str(limit),
                            "x-ratelimit-remaining-tokens": str(max(0, remaining)),
                            "x-ratelimit-reset-tokens": _reset(reset)})
        return headers

    def charge(self, admission: Admission, tokens: int) -> None:
        if tokens <= 0:
            return
        now = time.monotonic()
        with self._lock:
            for limit in admission.limits:
                self._windows.setdefault(limit.subject, _Window()).tokens.append((now, tokens))
            cached = self._quota.get(admission.tenant_id)
            if cached is not None:
                self._quota[admission.tenant_id] = (cached[0], cached[1] + tokens)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
