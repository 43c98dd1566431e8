"""Per-key and per-tenant limits on requests and tokens per minute, and a monthly token quota per
tenant: kept in process (sliding one-minute windows; the quota starts from the usage table), or in the
catalog when several server processes share it (`SharedRateLimiter`, chosen by `make_rate_limiter`).

Over a limit is a 429 with `Retry-After`; every limited response carries OpenAI's
`x-ratelimit-limit|remaining|reset-requests|tokens` headers for the tightest limit. Tokens are
charged when a request finishes (they are only known then), so a burst can pass a token limit by
one request's worth. The in-process limiter suits one server; with PostgreSQL (or
`OWNLLM_SHARED_RATE_LIMITS=true`) every replica counts in the same catalog rows.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ownllm.errors import RateLimited
from ownllm.store.home import Home
from ownllm.store.rate_counters import bump, counts, forget_before
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


def _limit_headers(unit: str, limit: int, remaining: float, reset_s: float) -> dict[str, str]:
    """OpenAI's `x-ratelimit-*-requests|tokens` headers for the tightest limit of one unit."""
    return {f"x-ratelimit-limit-{unit}": str(limit),
            f"x-ratelimit-remaining-{unit}": str(max(0, math.floor(remaining))),
            f"x-ratelimit-reset-{unit}": _reset(reset_s)}


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
            headers.update(_limit_headers("requests", limit, remaining, WINDOW_S - (now - window.requests[0])))
        tokens = [(lim.tokens_per_minute - w.token_sum(), lim.tokens_per_minute, w)
                  for lim, w in windows if lim.tokens_per_minute is not None]
        if tokens:
            remaining, limit, window = min(tokens, key=lambda item: item[0])
            reset = WINDOW_S - (now - window.tokens[0][0]) if window.tokens else 0.0
            headers.update(_limit_headers("tokens", limit, remaining, reset))
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


class SharedRateLimiter:
    """The same limits counted in the catalog instead of in this process, so replicas share them.

    Windows are sliding-window counters over one-minute buckets: the estimate is this minute's count plus
    the previous minute's weighted by how much of it still lies within the last 60 seconds. A request is
    counted with one atomic upsert and taken back if it is refused, so concurrent replicas never admit more
    than the limit between them. The monthly quota reads the usage table (every replica writes it), at most
    every `QUOTA_TTL_S` seconds per tenant.
    """

    QUOTA_TTL_S = 5.0

    def __init__(self, home: Home) -> None:
        self.home = home
        self._quota: dict[str, tuple[float, int]] = {}  # tenant -> (read at, tokens used)
        self._lock = threading.Lock()
        self._charges = 0

    def _quota_used(self, tenant_id: str) -> int:
        now = time.monotonic()
        with self._lock:
            cached = self._quota.get(tenant_id)
        if cached is None or now - cached[0] > self.QUOTA_TTL_S:
            cached = (now, tokens_since(self.home, tenant_id, month_start()))
            with self._lock:
                self._quota[tenant_id] = cached
        return cached[1]

    def admit(self, tenant_id: str, limits: list[Limit], monthly_tokens: int | None) -> Admission:
        if monthly_tokens is not None and self._quota_used(tenant_id) >= monthly_tokens:
            raise RateLimited(f"this tenant has used its monthly quota of {monthly_tokens} tokens",
                              retry_after=3600.0, code="insufficient_quota")
        if not limits:
            return Admission(limits, tenant_id, {})
        minute, into, weight = minute_window(time.time())
        subjects = [limit.subject for limit in limits]
        current = bump(self.home, subjects, minute, requests=1)
        previous = counts(self.home, subjects, (minute - 1, minute - 1))
        headers: dict[str, str] = {}
        tightest_requests: tuple[float, int] | None = None
        tightest_tokens: tuple[float, int] | None = None
        for limit in limits:
            cur_requests, cur_tokens = current[limit.subject]
            prev_requests, prev_tokens = previous.get((limit.subject, minute - 1), (0, 0))
            requests = prev_requests * weight + cur_requests
            tokens = prev_tokens * weight + cur_tokens
            refused = None
            if limit.requests_per_minute is not None and requests > limit.requests_per_minute:
                refused = f"rate limit of {limit.requests_per_minute} requests per minute reached"
            elif limit.tokens_per_minute is not None and tokens >= limit.tokens_per_minute:
                refused = f"rate limit of {limit.tokens_per_minute} tokens per minute reached"
            if refused is not None:
                bump(self.home, subjects, minute, requests=-1)  # a refused request does not count
                raise RateLimited(f"{refused} ({limit.subject.split(':')[0]})", retry_after=WINDOW_S - into)
            if limit.requests_per_minute is not None:
                left = limit.requests_per_minute - requests
                if tightest_requests is None or left < tightest_requests[0]:
                    tightest_requests = (left, limit.requests_per_minute)
            if limit.tokens_per_minute is not None:
                left = limit.tokens_per_minute - tokens
                if tightest_tokens is None or left < tightest_tokens[0]:
                    tightest_tokens = (left, limit.tokens_per_minute)
        if tightest_requests is not None:
            headers.update(_limit_headers("requests", tightest_requests[1], tightest_requests[0], WINDOW_S - into))
        if tightest_tokens is not None:
            headers.update(_limit_headers("tokens", tightest_tokens[1], tightest_tokens[0], WINDOW_S - into))
        return Admission(limits, tenant_id, headers)

    def charge(self, admission: Admission, tokens: int) -> None:
        if tokens <= 0:
            return
        minute = int(time.time() // WINDOW_S)
        if admission.limits:
            bump(self.home, [limit.subject for limit in admission.limits], minute, tokens=tokens)
        with self._lock:
            cached = self._quota.get(admission.tenant_id)
            if cached is not None:
                self._quota[admission.tenant_id] = (cached[0], cached[1] + tokens)
            self._charges += 1
            tidy = self._charges % 500 == 0
        if tidy:
            forget_before(self.home, minute)


def minute_window(now: float) -> tuple[int, float, float]:
    """For sliding-window counts over minute buckets: the current bucket, the seconds into it, and the weight of
    the previous bucket (the share of it still within the last 60 seconds)."""
    minute, into = int(now // WINDOW_S), now % WINDOW_S
    return minute, into, 1.0 - into / WINDOW_S


def shares_limits(home: Home) -> bool:
    """Counters in the catalog when replicas may share it (PostgreSQL, or `OWNLLM_SHARED_RATE_LIMITS=true`),
    else in this process (one server: no database round trip per request)."""
    shared = home.settings.shared_rate_limits
    return home.settings.catalog_url.startswith("postgresql") if shared is None else shared


def make_rate_limiter(home: Home) -> RateLimiter | SharedRateLimiter:
    return SharedRateLimiter(home) if shares_limits(home) else RateLimiter(home)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
