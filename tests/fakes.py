"""A fake inference engine for plumbing tests (serve, pool, jobs): no weights, deterministic text.

Tokens are characters, the chat template is `role: content` lines, and the reply is the last
user message's words in reverse order, one word per token, each after `delay_s`. A prompt
holding EXPLODE makes generation raise, to test how errors travel. Real-model behaviour is
tested in tests/inference and tests/e2e with SmolLM2.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ownllm.inference.engine import FINISH_CANCELLED, FINISH_LENGTH, FINISH_STOP, EngineSpec, SamplingParams, TokenDelta


class FakeEngine:
    def __init__(self, spec: EngineSpec, delay_s: float = 0.0, own_bytes: int = 10 << 20) -> None:
        self.spec = spec
        self.n_ctx = spec.n_ctx
        self.delay_s = delay_s
        self._own = own_bytes
        self.closed = False
        self.generations = 0

    def count_tokens(self, text: str) -> int:
        return len(text)

    def chat_prompt(self, messages: list[dict[str, Any]], **_: Any) -> list[int]:
        return [ord(c) for c in "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "]

    def text_prompt(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def generate(self, prompt: list[int], params: SamplingParams,
                 should_stop: Callable[[], bool]) -> Iterator[TokenDelta]:
        self.generations += 1
        text = "".join(chr(t) for t in prompt)
        if "EXPLODE" in text:
            raise RuntimeError("the fake engine exploded as asked")
        last = text.rsplit("user: ", 1)[-1].split("\n", 1)[0]
        words = list(reversed(last.split())) or ["ok"]
        produced = 0
        finish = FINISH_STOP
        for index, word in enumerate(words):
            if produced >= params.max_tokens:
                finish = FINISH_LENGTH
                break
            if should_stop():
                finish = FINISH_CANCELLED
                break
            time.sleep(self.delay_s)
            produced += 1
            yield TokenDelta(word if index == 0 else " " + word)
        yield TokenDelta("", finish, produced)

    def logits(self, tokens: list[int]) -> np.ndarray:
        return np.zeros((len(tokens), 8), np.float32)

    def memory_bytes(self) -> tuple[int, int]:
        return 0, self._own

    def close(self) -> None:
        self.closed = True


def fake_factory(delay_s: float = 0.0, own_bytes: int = 10 << 20) -> Callable[[EngineSpec], FakeEngine]:
    made: list[FakeEngine] = []

    def factory(spec: EngineSpec) -> FakeEngine:
        engine = FakeEngine(spec, delay_s, own_bytes)
        made.append(engine)
        return engine

    factory.made = made  # type: ignore[attr-defined]
    return factory


def fake_pool(budget_mb: int = 1024, delay_s: float = 0.0, own_mb: int = 10, queue_size: int = 32,
              idle_wait_s: float = 0.5):  # type: ignore[no-untyped-def]
    """An engine pool of fake engines, each costing `own_mb` of the budget."""
    from ownllm.inference.pool import EnginePool

    factory = fake_factory(delay_s, own_mb << 20)
    pool = EnginePool(budget_mb << 20, queue_size, factory, idle_wait_s, estimate=lambda spec: (0, own_mb << 20))
    pool.made = factory.made  # type: ignore[attr-defined]
    return pool
