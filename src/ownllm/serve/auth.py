"""Bearer-key authentication: every /v1 request resolves to exactly one tenant, or is refused.

Wrong secrets are throttled *before* argon2 runs: a key id or client address with too many
failures in the last minute gets a 429 at once, and at most two argon2 checks run at a time,
so guessing costs the attacker time instead of costing the server its CPUs.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Request

from ownllm.errors import RateLimited, Unauthenticated
from ownllm.store.keys import KeyOwner, authenticate

WINDOW_S = 60.0


class AuthThrottle:
    def __init__(self, failures_per_minute: int) -> None:
        self.limit = failures_per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.verifications = threading.BoundedSemaphore(2)

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

    def failed(self, *subjects: str) -> None:
        now = time.monotonic()
        with self._lock:
            for subject in subjects:
                self._recent(subject, now).append(now)
            if len(self._failures) > 100_000:  # forget idle subjects so spraying cannot grow memory
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]


def _key_id(token: str) -> str:
    parts = token.split("-", 2)
    return parts[1] if len(parts) == 3 else "malformed"


def require_key(request: Request) -> KeyOwner:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key"
        )
    runtime = request.app.state.runtime
    throttle: AuthThrottle = request.app.state.auth_throttle
    client = f"ip:{request.client.host if request.client else 'unknown'}"
    key = f"key:{_key_id(token)}"
    throttle.check(key, client)
    with throttle.verifications:
        try:
            return authenticate(runtime.home, token)
        except Unauthenticated:
            throttle.failed(key, client)
            raise


Owner = Annotated[KeyOwner, Depends(require_key)]
