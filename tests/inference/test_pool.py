"""The engine pool with fake engines: bounded memory (LRU, busy engines kept), a bounded queue per
engine (503 when full), cancellation within a token, and loads that do not block other models."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ownllm.errors import InvalidInput, Overloaded
from ownllm.inference.engine import EngineSpec, SamplingParams
from tests.fakes import fake_pool


def _spec(name: str) -> EngineSpec:
    return EngineSpec(Path(f"/models/{name}.gguf"), n_ctx=512)


def _prompt(words: int) -> list[int]:
    return [ord(c) for c in "user: " + " ".join(f"w{i}" for i in range(words)) + "\nassistant: "]


def test_least_recently_used_engine_is_evicted_within_the_budget() -> None:
    pool = fake_pool(budget_mb=30, own_mb=10)  # room for three
    for name in ("a", "b", "c"):
        pool.handle(_spec(name))
    pool.handle(_spec("a"))  # a is now the most recently used
    pool.handle(_spec("d"))  # evicts b, the least recently used
    loaded = {entry["engine"] for entry in pool.loaded()}
    assert loaded == {"a.gguf", "c.gguf", "d.gguf"}
    assert pool.used_bytes() <= 30 << 20 and pool.evictions == 1
    assert [e.closed for e in pool.made] == [False, True, False, False]  # the evicted engine was closed
    pool.close()


def test_a_busy_engine_is_not_evicted_and_a_model_over_the_budget_is_refused() -> None:
    pool = fake_pool(budget_mb=10, own_mb=10, delay_s=0.05, idle_wait_s=0.2)
    busy = pool.handle(_spec("a"))
    stream = busy.stream(_prompt(40), SamplingParams(max_tokens=40))
    with pytest.raises(Overloaded):  # b does not fit while a is decoding
        pool.handle(_spec("b"))
    stream.cancel()
    list(stream)
    assert pool.handle(_spec("b")).spec == _spec("b")  # a went idle: evicted, b loaded
    too_big = fake_pool(budget_mb=5, own_mb=10)
    with pytest.raises(InvalidInput, match="engine memory budget"):
        too_big.handle(_spec("a"))
    pool.close()


def test_a_full_queue_is_refused_at_once() -> None:
    pool = fake_pool(queue_size=2, delay_s=0.05)
    handle = pool.handle(_spec("a"))
    streams = [handle.stream(_prompt(20), SamplingParams(max_tokens=20)) for _ in range(2)]
    with pytest.raises(Overloaded, match="requests waiting"):
        handle.stream(_prompt(20), SamplingParams(max_tokens=20))
    for stream in streams:
        stream.cancel()
        list(stream)
    pool.close()


def test_cancelling_a_stream_stops_generation_within_a_token() -> None:
    pool = fake_pool(delay_s=0.02)
    handle = pool.handle(_spec("a"))
    stream = handle.stream(_prompt(200), SamplingParams(max_tokens=200))
    received = []
    for delta in stream:
        received.append(delta)
        if len(received) == 3:
            stream.cancel()
    assert received[-1].finish_reason == "cancelled"
    assert received[-1].completion_tokens <= 4
    pool.close()


def test_the_worker_never_waits_for_a_slow_reader() -> None:
    """Decoding fills the stream's buffer whether or not anyone reads it: a stalled client holds nothing."""
    pool = fake_pool(delay_s=0.0)
    handle = pool.handle(_spec("a"))
    stalled = handle.stream(_prompt(50), SamplingParams(max_tokens=50))  # never read until the end
    other = handle.chat([{"role": "user", "content": "one two three"}], SamplingParams(max_tokens=8))
    assert other.text == "three two one"
    assert stalled.collect().completion_tokens == 50
    pool.close()


def test_loading_one_model_does_not_block_requests_to_another() -> None:
    gate = threading.Event()
    pool = fake_pool()
    factory = pool._factory

    def slow_factory(spec: EngineSpec):  # type: ignore[no-untyped-def]
        if spec.model_path.name == "slow.gguf":
            gate.wait(10)
        return factory(spec)

    pool._factory = slow_factory
    fast = pool.handle(_spec("fast"))
    loader = threading.Thread(target=pool.handle, args=(_spec("slow"),))
    loader.start()
    time.sleep(0.1)
    done = threading.Event()
    threading.Thread(target=lambda: (fast.chat([{"role": "user", "content": "a b"}], SamplingParams()),
                                     done.set())).start()
    assert done.wait(5), "a request to a loaded model waited for another model's load"
    gate.set()
    loader.join(5)
    pool.close()


def test_engine_errors_reach_the_caller_and_the_worker_lives_on() -> None:
    pool = fake_pool()
    handle = pool.handle(_spec("a"))
    with pytest.raises(RuntimeError, match="exploded"):
        handle.chat([{"role": "user", "content": "EXPLODE"}], SamplingParams())
    assert handle.chat([{"role": "user", "content": "still here"}], SamplingParams()).text == "here still"
    pool.close()
