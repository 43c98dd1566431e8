"""Parsing on Ray: the ingest's parse tasks as a Ray Data dataset, mapped in batches across the cluster.

The same sandbox as on one machine: each Ray task runs its batch through a one-worker `WorkerPool`, so a
parser still runs in its own process under the tenant's memory cap and timeout, and a hostile file fails
only itself. What Ray adds is placement and recovery: batches spread over the cluster's CPUs, and a batch
whose Ray worker dies (a killed process, a lost node) is run again, up to `RETRIES` times, and after that the
files not yet parsed are parsed here, one by one in the local sandbox, so they are parsed rather than lost and a
file that keeps killing workers still fails only itself; a parser's own failure is a result, never retried.
Results come back as they finish; the caller records them in queue order, so the corpus a Ray ingest makes is
the one a local ingest makes.
"""

from __future__ import annotations

import logging
import math
import pickle
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ownllm.config import Settings
from ownllm.ingest.sandbox import TaskResult, WorkerPool
from ownllm.jobs.ray_cluster import ensure_ray, quiet_datasets

Task = tuple[Any, Callable[..., Any], tuple]
log = logging.getLogger("ownllm.ingest")
RETRIES = 3  # a batch whose Ray worker died is run again this often, then its files are parsed here


def parse_batch(batch: dict[str, Any], timeout_s: float, memory_mb: int) -> dict[str, list[bytes]]:
    """One Ray Data batch: run each pickled task in a sandboxed parser process, return pickled results."""
    tasks: list[Task] = [pickle.loads(blob) for blob in batch["task"]]
    results: dict[Any, TaskResult] = {}
    with WorkerPool(1, timeout_s, memory_mb) as pool:
        for result in pool.run(deque(tasks)):
            results[result.task_id] = result
    return {"result": [pickle.dumps(results[task_id]) for task_id, _, _ in tasks]}


class RayParsePool:
    """`WorkerPool`'s interface (`run(tasks)` yields `TaskResult`s) with the work done by Ray Data."""

    def __init__(self, settings: Settings, timeout_s: float = 600.0, memory_mb: int = 6144) -> None:
        self.settings = settings
        self.workers = settings.ray_workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb

    def __enter__(self) -> RayParsePool:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        """Yield results as batches finish; a deque passed in may grow while iterating (archive members),
        and what it gains is parsed in a further round."""
        pending = tasks if isinstance(tasks, deque) else deque(tasks)
        while pending:
            round_tasks = [pending.popleft() for _ in range(len(pending))]
            yield from self._round(round_tasks)

    def _round(self, tasks: list[Task]) -> Iterator[TaskResult]:
        ray = ensure_ray(self.settings)
        quiet_datasets(ray)
        # a few batches per worker: small enough to balance, large enough that OCR/ASR models load rarely
        size = max(1, math.ceil(len(tasks) / (self.workers * 3)))
        rows = [{"task": pickle.dumps(task)} for task in tasks]
        dataset = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / size))
        with warnings.catch_warnings():  # Ray 2.60 has no named parameter for task retries yet
            warnings.simplefilter("ignore", DeprecationWarning)
            parsed = dataset.map_batches(parse_batch, batch_size=size, batch_format="numpy",
                                         fn_kwargs={"timeout_s": self.timeout_s, "memory_mb": self.memory_mb},
                                         concurrency=self.workers, num_cpus=1, max_retries=RETRIES)
        done: set[Any] = set()
        try:
            for row in parsed.iter_rows():
                result: TaskResult = pickle.loads(row["result"])
                done.add(result.task_id)
                yield result
        except Exception as exc:  # a batch whose workers died RETRIES times: parse what is left here, one by one
            log.warning("Ray parse round failed (%s: %s); parsing the remaining files locally", type(exc).__name__,
                        exc)
            with WorkerPool(1, self.timeout_s, self.memory_mb) as pool:
                yield from pool.run(deque(task for task in tasks if task[0] not in done))
