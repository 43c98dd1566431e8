"""Run parsers in worker processes with a timeout and a memory cap.

A parser fed hostile bytes may hang, eat all memory or crash the interpreter (native
code: pdfium, onnxruntime, ctranslate2). Each worker is a separate process with an
address-space limit; the parent waits on all workers at once and, when one overruns
its deadline or dies, kills it, reports that file as failed, and starts a fresh worker
so the batch goes on. Workers are long-lived, so OCR/ASR models load once per worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ownllm.ingest.parsed import ParseError, UnsupportedType


@dataclass
class TaskResult:
    task_id: Any
    ok: bool
    value: Any = None
    status: str = "failed"  # failed | unsupported (when not ok)
    error: str = ""


def _limit_memory(memory_mb: int) -> None:
    limit = memory_mb * (1 << 20)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, memory_mb: int) -> None:
    _limit_memory(memory_mb)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        task_id, func, args = message
        try:
            result = TaskResult(task_id, True, func(*args))
        except UnsupportedType as exc:
            result = TaskResult(task_id, False, status="unsupported", error=str(exc))
        except ParseError as exc:
            result = TaskResult(task_id, False, error=str(exc))
        except MemoryError:
            result = TaskResult(task_id, False, error=f"parser ran out of memory (cap {memory_mb} MB)")
        except RecursionError:
            result = TaskResult(task_id, False, error="parser gave up: the file nests too deeply")
        except Exception as exc:  # a parser bug is this file's failure, not the worker's
            result = TaskResult(task_id, False, error=f"parser crashed: {type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(TaskResult(task_id, False, error=f"parser result could not be returned: {exc}"))


class _Worker:
    def __init__(self, context: mp.context.BaseContext, memory_mb: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.task_id: Any = None
        self.deadline = 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """Run `(task_id, func, args)` tasks in parallel workers; yields results as they finish."""

    def __init__(self, workers: int = 2, timeout_s: float = 600.0, memory_mb: int = 6144) -> None:
        self.size = max(1, workers)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._context = mp.get_context("spawn")  # no state or threads inherited from the caller
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
            worker.process.join(timeout=2)
            worker.kill()
        self._workers.clear()

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.memory_mb)
        self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.remove(worker)

    def run(self, tasks: Iterable[tuple[Any, Callable[..., Any], tuple]]) -> Iterator[TaskResult]:
        """Yield results as tasks finish; a deque passed in may be extended while iterating."""
        pending = tasks if isinstance(tasks, deque) else deque(tasks)
        while pending or any(w.task_id is not None for w in self._workers):
            while pending and (idle := self._idle_worker()) is not None:
                task_id, func, args = pending.popleft()
                idle.task_id, idle.deadline = task_id, time.monotonic() + self.timeout_s
                idle.conn.send((task_id, func, args))
            busy = [w for w in self._workers if w.task_id is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=timeout)
            for worker in busy:
                if worker.conn in ready:
                    try:
                        result: TaskResult = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=2)
                        code = worker.process.exitcode
                        result = TaskResult(worker.task_id, False,
                                            error=f"parser process died (exit code {code}); file skipped")
                        self._replace(worker)
                    else:
                        worker.task_id = None
                    yield result
                elif time.monotonic() >= worker.deadline:
                    task_id = worker.task_id
                    self._replace(worker)
                    yield TaskResult(task_id, False, error=f"parser timed out after {self.timeout_s:g} s; file skipped")

    def _idle_worker(self) -> _Worker | None:
        for worker in self._workers:
            if worker.task_id is None and worker.process.is_alive():
                return worker
        dead = [w for w in self._workers if w.task_id is None and not w.process.is_alive()]
        for worker in dead:
            self._replace(worker)
        if len(self._workers) < self.size:
            return self._spawn()
        return None
