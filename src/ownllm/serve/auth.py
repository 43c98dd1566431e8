"""Bearer-key authentication: every /v1 request resolves to exactly one tenant, or is refused.

Wrong secrets are throttled *before* argon2 runs: a client address, or a key id from one address,
with too many failures in the last minute gets a 429 at once, and one argon2 check runs at a
time (verified keys are cached, so only first uses and wrong secrets pay for it): guessing costs
the attacker time instead of costing the server its CPUs. Keys already verified skip all of it,
and throttling is per address, so nobody can lock a tenant out by failing on its key id.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request

from ownllm.errors import Forbidden, RateLimited, Unauthenticated
from ownllm.serve.ratelimit import WINDOW_S, minute_window, shares_limits
from ownllm.store.home import Home
from ownllm.store.keys import ADMIN_OWNER, KeyOwner, authenticate
from ownllm.store.rate_counters import bump, counts


class AuthThrottle:
    def __init__(self, failures_per_minute: int) -> None:
        self.limit = failures_per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.argon2_gate = threading.BoundedSemaphore(1)

    def _recent(self, subject: str, now: float) -> deque[float]:
        times = self._failures[subject]
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return times

    def check(self, *subjects: str) -> None:
        now = time.monotonic()
        with self._lock:
            for subject in subjects:
                times = self._recent(subject, now)
                if len(times) >= self.limit:
                    raise RateLimited("too many failed authentication attempts; wait before trying again",
                                      retry_after=WINDOW_S - (now - times[0]), code="too_many_auth_failures")

    @contextlib.contextmanager
    def gate(self, *subjects: str) -> Iterator[None]:
        """Entered just before an argon2 check (a key not in the verified cache): throttle, then queue."""
        self.check(*subjects)
        with self.argon2_gate:
            yield

    def failed(self, *subjects: str) -> None:
        now = time.monotonic()
        with self._lock:
            for subject in subjects:
                self._recent(subject, now).append(now)
            if len(self._failures) > 100_000:  # forget idle subjects so spraying cannot grow memory
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]


class SharedAuthThrottle(AuthThrottle):
    """Failures counted in the catalog instead of in this process, so a guesser who spreads attempts over the
    replicas meets one limit. Sliding-window estimate over minute buckets, as the shared rate limiter does;
    the argon2 gate stays per process (it guards this process's CPUs)."""

    def __init__(self, home: Home, failures_per_minute: int) -> None:
        super().__init__(failures_per_minute)
        self.home = home

    @staticmethod
    def _subject(subject: str) -> str:
        name = f"authfail:{subject}"
        return name if len(name) <= 80 else f"authfail:{hashlib.sha256(subject.encode()).hexdigest()}"

    def check(self, *subjects: str) -> None:
        minute, into, weight = minute_window(time.time())
        names = [self._subject(subject) for subject in subjects]
        found = counts(self.home, names, (minute - 1, minute))
        for name in names:
            failures = found.get((name, minute - 1), (0, 0))[0] * weight + found.get((name, minute), (0, 0))[0]
            if failures >= self.limit:
                raise RateLimited("too many failed authentication attempts; wait before trying again",
                                  retry_after=WINDOW_S - into, code="too_many_auth_failures")

    def failed(self, *subjects: str) -> None:
        bump(self.home, [self._subject(subject) for subject in subjects], int(time.time() // WINDOW_S), requests=1)


def make_auth_throttle(home: Home) -> AuthThrottle:
    """Shared by every replica when the rate limits are (see `shares_limits`), else in this process."""
    limit = home.settings.auth_failures_per_minute
    return SharedAuthThrottle(home, limit) if shares_limits(home) else AuthThrottle(limit)


def _key_id(token: str) -> str:
    parts = token.split("-", 2)
    return parts[1] if len(parts) == 3 else "malformed"


def _admin(request: Request, token: str) -> KeyOwner | None:
    """The operator's admin key from the environment (OWNLLM_ADMIN_KEY): admin scope, no tenant."""
    admin_key = request.app.state.runtime.home.settings.admin_key
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return ADMIN_OWNER
    return None


def require_key(request: Request) -> KeyOwner:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key"
        )
    return authenticate_token(request, token)


def authenticate_token(request: Request, token: str) -> KeyOwner:
    """A key's owner (the admin key too), throttled on failures: for the API header and the console's sign-in."""
    admin = _admin(request, token)
    if admin is not None:
        return admin
    runtime = request.app.state.runtime
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client else "unknown"
    client, key = f"ip:{address}", f"key:{_key_id(token)}@{address}"
    try:
        return authenticate(runtime.home, token, throttle.gate(key, client))
    except Unauthenticated:
        throttle.failed(key, client)
        raise


def access(scope: str | None) -> Callable[[Request], KeyOwner]:
    """A dependency: the caller's key, which must carry `scope`; a request that changes something
    (any method but GET) is also admitted under the rate limits (see serve/metering.py)."""

    def dependency(request: Request) -> KeyOwner:
        owner = require_key(request)
        if scope is not None and scope not in owner.scopes and not owner.is_admin:
            raise Forbidden(f"this API key lacks the {scope!r} scope", code="missing_scope")
        request.state.owner = owner
        if request.method != "GET" and owner.tenant_id:
            from ownllm.serve.metering import admit

            admit(request, owner)
        return owner

    return dependency


Owner = Annotated[KeyOwner, Depends(access("inference"))]
FilesOwner = Annotated[KeyOwner, Depends(access("files"))]
TuningOwner = Annotated[KeyOwner, Depends(access("fine_tune"))]
AnyOwner = Annotated[KeyOwner, Depends(access(None))]
AdminOwner = Annotated[KeyOwner, Depends(access("admin"))]
