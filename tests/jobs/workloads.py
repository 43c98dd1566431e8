"""Job bodies the runner tests submit by name (a job target must be importable from a fresh process)."""

from __future__ import annotations

import os
import time

from ownllm.errors import InvalidInput
from ownllm.jobs.tracker import JobTracker
from ownllm.store.home import Home


def succeed(home: Home, tenant_id: str, tracker: JobTracker, *, value: int) -> None:
    tracker.start(total=1)
    tracker.succeed({"value": value * 2, "pid": os.getpid()})


def refuse(home: Home, tenant_id: str, tracker: JobTracker) -> None:
    tracker.start()
    raise InvalidInput("the input names a missing thing")


def crash(home: Home, tenant_id: str, tracker: JobTracker) -> None:
    tracker.start()
    raise ValueError(f"broken while reading {home.root / 'runs' / 'secret.bin'}")


def hog(home: Home, tenant_id: str, tracker: JobTracker, *, megabytes: int) -> None:
    tracker.start()
    blocks = [bytearray(1 << 20) for _ in range(megabytes)]
    tracker.succeed({"held": len(blocks)})


def sleepy(home: Home, tenant_id: str, tracker: JobTracker, *, items: list[str]) -> None:
    tracker.start(total=len(items))
    for _ in range(40):
        time.sleep(0.05)
        tracker.check_cancelled()
    tracker.succeed({"items": items})


def until_cancelled(home: Home, tenant_id: str, tracker: JobTracker, *, limit_s: float = 120) -> None:
    """Hold a worker until the job is cancelled, so a test about caps and cancelling does not race a timer."""
    tracker.start()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.05)
        tracker.check_cancelled()
    raise TimeoutError(f"job {tracker.job_id} was not cancelled within {limit_s} s")
