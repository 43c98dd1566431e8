"""Usage records: every metered request, written in batches by a background writer, and the queries
behind `GET /v1/usage`, `ownllm usage` and the monthly quota."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ownllm.store.catalog import Job, UsageRecord
from ownllm.store.home import Home

log = logging.getLogger("ownllm.usage")
GROUPS = ("day", "model", "key", "endpoint", "tenant")


@dataclass
class Usage:
    tenant_id: str
    key_id: str | None
    model: str | None
    endpoint: str
    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    cpu_seconds: float = 0.0


class UsageWriter:
    """Writes usage rows off the request path, a batch at a time; `flush()` waits for what was queued."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._queue: queue.Queue[Usage | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="usage writer", daemon=True)
        self._thread.start()

    def record(self, usage: Usage) -> None:
        self._queue.put(usage)

    def flush(self, timeout: float = 10.0) -> None:
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[Usage] = []
            waiting: list[threading.Event] = []
            stop = False
            while item is not None or not stop:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    with self.home.catalog.session() as session:
                        session.add_all(UsageRecord(**vars(u)) for u in batch)
                except Exception:  # metering must never take a request down; say so in the log
                    log.exception("could not write %d usage records", len(batch))
            for event in waiting:
                event.set()
            if stop:
                return


def month_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def tokens_since(home: Home, tenant_id: str, since: datetime) -> int:
    with home.catalog.session() as session:
        total = session.scalar(select(func.coalesce(func.sum(UsageRecord.prompt_tokens + UsageRecord.completion_tokens),
                                                    0)).where(UsageRecord.tenant_id == tenant_id,
                                                              UsageRecord.created_at >= since))
    return int(total or 0)


def usage_summary(home: Home, tenant_id: str | None, group_by: str = "day", days: int = 30) -> list[dict[str, Any]]:
    """Requests, tokens, latency and CPU per group over the last `days`; `tenant_id=None` is every tenant."""
    since = datetime.now(UTC) - timedelta(days=days)
    column = {"day": func.substr(func.cast(UsageRecord.created_at, _text()), 1, 10), "model": UsageRecord.model,
              "key": UsageRecord.key_id, "endpoint": UsageRecord.endpoint, "tenant": UsageRecord.tenant_id}[group_by]
    query = (select(column.label("group"), func.count(UsageRecord.id), func.sum(UsageRecord.prompt_tokens),
                    func.sum(UsageRecord.completion_tokens), func.avg(UsageRecord.latency_ms),
                    func.avg(UsageRecord.ttft_ms), func.sum(UsageRecord.cpu_seconds),
                    func.sum(func.cast(UsageRecord.status >= 400, _int())))
             .where(UsageRecord.created_at >= since).group_by(column).order_by(column))
    if tenant_id is not None:
        query = query.where(UsageRecord.tenant_id == tenant_id)
    with home.catalog.session() as session:
        rows = session.execute(query).all()
    return [{"group": group, "requests": n, "prompt_tokens": int(p or 0), "completion_tokens": int(c or 0),
             "mean_latency_ms": round(float(lat or 0), 1), "mean_ttft_ms": round(float(ttft), 1) if ttft else None,
             "cpu_seconds": round(float(cpu or 0), 3), "errors": int(errors or 0)}
            for group, n, p, c, lat, ttft, cpu, errors in rows]


def job_cpu_by_kind(home: Home, tenant_id: str | None, days: int = 30) -> dict[str, dict[str, float]]:
    since = datetime.now(UTC) - timedelta(days=days)
    query = (select(Job.kind, func.count(Job.id), func.sum(Job.cpu_seconds)).where(Job.created_at >= since)
             .group_by(Job.kind))
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    with home.catalog.session() as session:
        return {kind: {"jobs": n, "cpu_seconds": round(float(cpu or 0), 3)}
                for kind, n, cpu in session.execute(query).all()}


def _text():  # type: ignore[no-untyped-def]
    from sqlalchemy import String

    return String()


def _int():  # type: ignore[no-untyped-def]
    from sqlalchemy import Integer

    return Integer()
