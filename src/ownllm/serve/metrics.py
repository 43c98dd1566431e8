"""Prometheus metrics at `/metrics` (admin key unless OWNLLM_PUBLIC_METRICS=true): requests, tokens,
latency and time-to-first-token histograms, errors by status, and, read at scrape time, each engine's
queue depth, running and waiting requests, and the loaded models and adapters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ownllm.inference.pool import EnginePool
from ownllm.jobs.runner import JobRunner

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


class _Engines(Collector):
    def __init__(self, pool: EnginePool, runner: JobRunner | None) -> None:
        self.pool, self.runner = pool, runner

    def collect(self) -> Iterator[Any]:
        loaded = self.pool.loaded()
        queue = GaugeMetricFamily("ownllm_engine_queue_depth", "requests queued or running per engine",
                                  labels=["engine"])
        running = GaugeMetricFamily("ownllm_engine_running_requests", "requests being decoded per engine",
                                    labels=["engine"])
        waiting = GaugeMetricFamily("ownllm_engine_waiting_requests", "requests waiting for a slot per engine",
                                    labels=["engine"])
        for entry in loaded:
            queue.add_metric([entry["engine"]], entry["queue"])
            running.add_metric([entry["engine"]], entry["running"])
            waiting.add_metric([entry["engine"]], max(0, entry["queue"] - entry["running"]))
        yield queue
        yield running
        yield waiting
        yield GaugeMetricFamily("ownllm_loaded_models", "engines loaded (base models)",
                                value=sum(1 for e in loaded if not e["adapter"]))
        yield GaugeMetricFamily("ownllm_loaded_adapters", "engines loaded with a LoRA adapter",
                                value=sum(1 for e in loaded if e["adapter"]))
        yield GaugeMetricFamily("ownllm_engine_memory_bytes", "estimated memory of loaded engines",
                                value=self.pool.used_bytes())
        if self.runner is not None:
            yield GaugeMetricFamily("ownllm_jobs_running", "background jobs running",
                                    value=len(self.runner.running_jobs()))


class Metrics:
    def __init__(self, pool: EnginePool, runner: JobRunner | None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ownllm_requests", "API requests", ["endpoint", "status"], registry=self.registry)
        self.errors = Counter("ownllm_errors", "API responses with status >= 400", ["status"], registry=self.registry)
        self.tokens = Counter("ownllm_tokens", "tokens processed", ["kind", "model"], registry=self.registry)
        self.latency = Histogram("ownllm_request_seconds", "request latency", ["endpoint"], buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.ttft = Histogram("ownllm_time_to_first_token_seconds", "time to first token", ["model"],
                              buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_Engines(pool, runner))

    def observe_request(self, endpoint: str, status: int, seconds: float, spent: Any, started: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            self.errors.labels(str(status)).inc()
        if spent is not None and spent.model:
            self.tokens.labels("prompt", spent.model).inc(spent.prompt_tokens)
            self.tokens.labels("completion", spent.model).inc(spent.completion_tokens)
            if spent.first_token_at is not None:
                self.ttft.labels(spent.model).observe(max(0.0, spent.first_token_at - started))

    def render(self) -> bytes:
        return generate_latest(self.registry)
