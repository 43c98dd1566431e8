"""Loaded engines, bounded: an LRU within a memory budget, one worker thread and one bounded queue
per engine.

Why a worker per engine instead of a lock: a lock held while a stream waits for its client to
read lets slow or many clients freeze the server (every request thread ends up waiting on the
lock while the holder waits for a free thread to write). Here the worker decodes into a
`TokenStream` buffer and never waits on a client; callers read the buffer from a thread or
from an event loop. A full queue is refused at once (`Overloaded`, a 503) instead of growing
without bound, and a caller that goes away cancels its generation within a token.

Loading happens in the caller's thread outside the pool lock, so loading one model never
blocks requests to another; engines are evicted least-recently-used when the budget would be
exceeded, never while they have work.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ownllm.errors import InvalidInput, Overloaded
from ownllm.inference.engine import (
    FINISH_CANCELLED,
    Completion,
    Engine,
    EngineSpec,
    Message,
    SamplingParams,
    TokenDelta,
)

log = logging.getLogger("ownllm.inference")
EngineFactory = Callable[[EngineSpec], Engine]
_END = object()


class TokenStream:
    """Deltas of one generation, buffered: the worker puts, one consumer reads (sync or async).

    The last delta carries the finish reason; an engine error is re-raised in the consumer.
    """

    def __init__(self, prompt_tokens: int, loop: asyncio.AbstractEventLoop | None = None,
                 cancelled: threading.Event | None = None) -> None:
        self.prompt_tokens = prompt_tokens
        self.first_token_at: float | None = None  # when the first text was ready (time to first token)
        self.cpu_seconds = 0.0  # the worker's CPU time for this request (its share of batched steps)
        self._loop = loop
        self._sync: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._async: asyncio.Queue[Any] | None = asyncio.Queue() if loop is not None else None
        # shared with the streams of follow-up work (an answer's check), so one cancel stops them all
        self._cancelled = cancelled if cancelled is not None else threading.Event()

    # worker side
    def put(self, item: TokenDelta | BaseException | object) -> None:
        if self.first_token_at is None and isinstance(item, TokenDelta) and (item.text or item.finish_reason):
            self.first_token_at = time.monotonic()
        if self._async is not None and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._async.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                self._cancelled.set()
        else:
            self._sync.put(item)

    def end(self) -> None:
        """No more deltas will come (the worker calls it last, also after an error)."""
        self.put(_END)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancelled

    # consumer side
    def cancel(self) -> None:
        """Stop the generation (the client went away); the worker notices before its next token."""
        self._cancelled.set()

    def __iter__(self) -> Iterator[TokenDelta]:
        while True:
            item = self._sync.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def __aiter__(self) -> AsyncIterator[TokenDelta]:
        async for delta in self.deltas():
            if delta is not None:
                yield delta

    async def deltas(self, idle_after: float | None = None) -> AsyncIterator[TokenDelta | None]:
        """The deltas, and a None whenever `idle_after` seconds pass without one, so a server can keep a
        quiet stream open (queued behind others, or an answer being checked before it is sent)."""
        assert self._async is not None, "bind an event loop to read a stream asynchronously"
        queued = self._async
        while True:
            if not queued.empty():  # the hot path: a delta is waiting, no timer per token
                item = queued.get_nowait()
            elif idle_after is None:
                item = await queued.get()
            else:
                try:
                    async with asyncio.timeout(idle_after):
                        item = await queued.get()
                except TimeoutError:  # a timed-out get takes nothing off the queue
                    item = None
                if item is None:  # yielded outside the except block, so no exception context is held
                    yield None
                    continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def collect(self) -> Completion:
        return self._collect(list(self))

    async def collect_async(self) -> Completion:
        return self._collect([delta async for delta in self])

    def _collect(self, deltas: list[TokenDelta]) -> Completion:
        last = deltas[-1] if deltas else TokenDelta("", "stop", 0)
        logprobs = [item for d in deltas for item in (d.logprobs or [])] if any(d.logprobs for d in deltas) else None
        return Completion("".join(d.text for d in deltas), last.finish_reason or "stop", self.prompt_tokens,
                          last.completion_tokens, logprobs, self.first_token_at, self.cpu_seconds)


@dataclass
class _Generate:
    prompt: list[int]
    params: SamplingParams
    stream: TokenStream

    def run(self, engine: Engine) -> None:
        """One request on an engine without batching."""
        try:
            if self.stream.cancelled:
                self.stream.put(TokenDelta("", FINISH_CANCELLED, 0))
            else:
                started = time.thread_time()
                for delta in engine.generate(self.prompt, self.params, lambda: self.stream.cancelled):
                    self.stream.put(delta)
                self.stream.cpu_seconds = time.thread_time() - started
        except BaseException as exc:  # the consumer re-raises it; the worker lives on
            self.stream.put(exc)
        self.stream.end()

    def start(self, engine: Any) -> Any:
        """Admit into a batching engine; None when it ended at once (cancelled, or refused)."""
        if self.stream.cancelled:
            self.stream.put(TokenDelta("", FINISH_CANCELLED, 0))
            self.stream.end()
            return None
        try:
            return engine.start(self.prompt, self.params, self.stream.put, lambda: self.stream.cancelled)
        except BaseException as exc:
            self.stream.put(exc)
            self.stream.end()
            return None

    def finish(self, sequence: Any, engine: Any, error: BaseException | None = None) -> None:
        if error is not None:
            self.stream.put(error)
        self.stream.cpu_seconds = getattr(sequence, "cpu_seconds", 0.0)
        with contextlib.suppress(Exception):
            engine.release(sequence)
        self.stream.end()


@dataclass
class _Call:
    fn: Callable[[Engine], Any]
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)

    def run(self, engine: Engine) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.fn(engine))
        except BaseException as exc:
            self.future.set_exception(exc)


class EngineWorker:
    """One loaded engine and the thread that runs everything it decodes.

    A batching engine (llama.cpp) decodes up to `slots` requests together, admitting queued ones
    as slots free up (continuous batching); other engines run one request at a time. Calls that
    need the whole context (logits) wait until no sequence is active.
    """

    def __init__(self, engine: Engine, queue_size: int) -> None:
        self.engine = engine
        self.spec = engine.spec
        self.weights_bytes, self.own_bytes = engine.memory_bytes()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._busy = 0  # queued + running tasks
        self.running = 0
        self._busy_lock = threading.Lock()
        self.closed = False
        self.last_used = time.monotonic()
        batching = hasattr(engine, "start") and getattr(engine, "slots", 1) >= 1
        target = self._run_batched if batching else self._run_serial
        self._thread = threading.Thread(target=target, name=f"engine {self.spec.label}", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        with self._busy_lock:
            return self._busy == 0

    @property
    def depth(self) -> int:
        with self._busy_lock:
            return self._busy

    def submit(self, task: _Generate | _Call) -> None:
        with self._busy_lock:
            if self.closed:
                raise _Closed
            try:
                self._queue.put_nowait(task)
            except queue.Full:
                raise Overloaded(f"the model {self.spec.model_path.name} has {self._queue.maxsize} requests "
                                 "waiting; retry shortly", retry_after=2.0) from None
            self._busy += 1
            self.last_used = time.monotonic()

    def _done(self) -> None:
        with self._busy_lock:
            self._busy -= 1
            self.last_used = time.monotonic()

    def _run_serial(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            self.running = 1
            try:
                task.run(self.engine)
            finally:
                self.running = 0
                self._done()

    def _run_batched(self) -> None:
        engine: Any = self.engine
        active: list[tuple[_Generate, Any]] = []
        deferred: list[_Call] = []
        while True:
            while engine.free_slots > 0:
                try:
                    task = self._queue.get(block=not active and not deferred)
                except queue.Empty:
                    break
                if task is None:
                    for waiting, sequence in active:
                        waiting.finish(sequence, engine, RuntimeError("the engine was unloaded"))
                    return
                if isinstance(task, _Call):
                    deferred.append(task)
                    break
                started = task.start(engine)
                if started is None:
                    self._done()
                else:
                    active.append((task, started))
            if not active:
                for call in deferred:
                    call.run(engine)
                    self._done()
                deferred.clear()
                continue
            self.running = len(active)
            try:
                engine.step([sequence for _, sequence in active])
            except BaseException as exc:  # the engine failed this batch: every sequence in it gets the error
                for task, sequence in active:
                    task.finish(sequence, engine, exc)
                    self._done()
                active = []
                continue
            still = []
            for task, sequence in active:
                if sequence.done:
                    task.finish(sequence, engine)
                    self._done()
                else:
                    still.append((task, sequence))
            active = still
            self.running = len(active)

    def close(self) -> None:
        with self._busy_lock:
            self.closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        self.engine.close()


class _Closed(Exception):
    """The worker was evicted between lookup and submit; the handle loads it again."""


class EngineHandle:
    """What callers hold: tokenization in their own thread, decoding on the engine's worker."""

    def __init__(self, pool: EnginePool, spec: EngineSpec, worker: EngineWorker) -> None:
        self._pool, self.spec, self._worker = pool, spec, worker

    @property
    def engine(self) -> Engine:
        return self._worker.engine

    @property
    def n_ctx(self) -> int:
        return self._worker.engine.n_ctx

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def chat_prompt(self, messages: list[Message], **template_vars: Any) -> list[int]:
        return self.engine.chat_prompt(messages, **template_vars)

    def text_prompt(self, text: str) -> list[int]:
        return self.engine.text_prompt(text)

    def _submit(self, task: _Generate | _Call) -> None:
        for _ in range(3):
            try:
                self._worker.submit(task)
                return
            except _Closed:
                self._worker = self._pool.worker(self.spec)
        raise Overloaded("the model was unloaded repeatedly while this request waited; retry", retry_after=1.0)

    def stream(self, prompt: list[int], params: SamplingParams, loop: asyncio.AbstractEventLoop | None = None,
               cancelled: threading.Event | None = None) -> TokenStream:
        """Start decoding; read the returned stream from this thread, or from `loop` if given.

        `cancelled`: an event shared with another stream, whose cancel then stops this one too.
        """
        stream = TokenStream(len(prompt), loop, cancelled)
        self._submit(_Generate(prompt, params, stream))
        return stream

    def generate(self, prompt: list[int], params: SamplingParams) -> Completion:
        return self.stream(prompt, params).collect()

    def chat(self, messages: list[Message], params: SamplingParams) -> Completion:
        return self.generate(self.chat_prompt(messages), params)

    def call(self, fn: Callable[[Engine], Any]) -> Any:
        """Run `fn(engine)` on the worker (anything that touches the decoding state) and wait."""
        task = _Call(fn)
        self._submit(task)
        return task.future.result()

    def logits(self, tokens: list[int]) -> np.ndarray:
        return self.call(lambda engine: engine.logits(tokens))


class EnginePool:
    def __init__(self, budget_bytes: int, queue_size: int = 32, factory: EngineFactory | None = None,
                 idle_wait_s: float = 5.0, estimate: Callable[[EngineSpec], tuple[int, int]] | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.queue_size = queue_size
        self.idle_wait_s = idle_wait_s
        self._factory = factory or _llamacpp_factory
        self._estimate = estimate or estimate_gguf
        self._workers: OrderedDict[EngineSpec, EngineWorker] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[EngineSpec, threading.Lock] = {}
        self.loads = 0
        self.evictions = 0

    def handle(self, spec: EngineSpec) -> EngineHandle:
        """A handle on the engine for `spec`, loading it (and evicting others) if needed. Blocking."""
        return EngineHandle(self, spec, self.worker(spec))

    def worker(self, spec: EngineSpec) -> EngineWorker:
        with self._lock:
            found = self._workers.get(spec)
            if found is not None and not found.closed:
                self._workers.move_to_end(spec)
                return found
            loading = self._loading.setdefault(spec, threading.Lock())
        with loading:  # one load per spec; other specs load (and serve) meanwhile
            with self._lock:
                found = self._workers.get(spec)
                if found is not None and not found.closed:
                    return found
            self._make_room(spec)
            engine = self._factory(spec)
            worker = EngineWorker(engine, self.queue_size)
            with self._lock:
                self._workers[spec] = worker
                self.loads += 1
            log.info("loaded %s (%d MB own, %d MB weights)", spec.label, worker.own_bytes >> 20,
                     worker.weights_bytes >> 20)
            return worker

    def _used(self, extra_weights: tuple[str, int] | None = None) -> int:
        weights = {str(w.spec.model_path): w.weights_bytes for w in self._workers.values()}
        if extra_weights is not None:
            weights.setdefault(*extra_weights)
        return sum(weights.values()) + sum(w.own_bytes for w in self._workers.values())

    def _make_room(self, spec: EngineSpec) -> None:
        weights, own = self._estimate(spec)
        if weights + own > self.budget_bytes:
            raise InvalidInput(f"the model {spec.label} needs about {(weights + own) >> 20} MB; the engine memory "
                               f"budget (OWNLLM_ENGINE_MEMORY_MB) is {self.budget_bytes >> 20} MB", param="model")
        deadline = time.monotonic() + self.idle_wait_s
        while True:
            evicted: list[EngineWorker] = []
            with self._lock:
                while self._used((str(spec.model_path), weights)) + own > self.budget_bytes:
                    victim = next((s for s, w in self._workers.items() if w.idle), None)
                    if victim is None:
                        break
                    evicted.append(self._workers.pop(victim))
                fits = self._used((str(spec.model_path), weights)) + own <= self.budget_bytes
            for worker in evicted:
                self.evictions += 1
                log.info("evicted %s to make room for %s", worker.spec.label, spec.label)
                worker.close()
            if fits:
                return
            if time.monotonic() > deadline:
                raise Overloaded(f"every loaded model is busy and {spec.label} does not fit in the engine memory "
                                 "budget; retry shortly", retry_after=5.0)
            time.sleep(0.1)

    def loaded(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"engine": spec.label, "queue": w.depth, "running": w.running,
                     "adapter": spec.lora_path is not None, "own_mb": w.own_bytes >> 20,
                     "weights_mb": w.weights_bytes >> 20}
                    for spec, w in self._workers.items()]

    def used_bytes(self) -> int:
        with self._lock:
            return self._used()

    def close(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.close()


_estimates: dict[EngineSpec, tuple[int, int]] = {}


def estimate_gguf(spec: EngineSpec) -> tuple[int, int]:
    """(weights, own bytes) of a GGUF engine before loading it, from the file's metadata."""
    if spec not in _estimates:
        try:
            from ownllm.inference.llamacpp import estimate_memory, read_header

            _estimates[spec] = estimate_memory(spec, *read_header(spec.model_path))
        except Exception:  # not a GGUF (a test's fake model): nothing to reserve up front
            _estimates[spec] = (0, 0)
    return _estimates[spec]


def _llamacpp_factory(spec: EngineSpec) -> Engine:
    """The engine for a spec's backend: llama.cpp by default, transformers or vLLM when asked for."""
    if spec.backend == "transformers":
        from ownllm.inference.transformers_engine import TransformersEngine

        return TransformersEngine(spec)
    if spec.backend == "vllm":
        from ownllm.inference.vllm_engine import VllmEngine

        return VllmEngine(spec)
    from ownllm.inference.llamacpp import LlamaCppEngine

    return LlamaCppEngine(spec)


_shared: EnginePool | None = None
_shared_lock = threading.Lock()


def shared_pool(budget_mb: int = 4096, queue_size: int = 32, idle_wait_s: float = 5.0) -> EnginePool:
    """The process's pool (the CLI, a job process, the API server each have one)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EnginePool(budget_mb << 20, queue_size, idle_wait_s=idle_wait_s)
        return _shared


def set_shared_pool(pool: EnginePool | None) -> EnginePool | None:
    """Swap the process's pool (tests install one with a fake engine); returns the previous one."""
    global _shared
    with _shared_lock:
        previous, _shared = _shared, pool
    with contextlib.suppress(Exception):
        if previous is not None and previous is not pool:
            previous.close()
    return previous
