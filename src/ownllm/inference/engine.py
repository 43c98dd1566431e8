"""What every inference engine offers, whatever runs underneath (llama.cpp today, transformers or
vLLM next), and the values that cross the engine boundary.

An `Engine` is not thread-safe: the pool gives each loaded engine one worker thread that runs
its generations, and callers talk to it through an `EngineHandle` (pool.py). Prompts cross the
boundary as token ids, rendered and tokenized by the engine itself, so the context check and
the usage numbers count exactly what the model reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_CANCELLED = "cancelled"  # the caller went away; never shown to a client


@dataclass(frozen=True)
class EngineSpec:
    """Everything that makes two loaded engines different; the pool keys engines by it."""

    model_path: Path
    lora_path: Path | None = None
    n_ctx: int = 4096
    logits_all: bool = False  # keep every position's logits (perplexity, export checks)
    n_threads: int | None = None
    slots: int = 1  # sequences decoded together (continuous batching); each may use all of n_ctx
    backend: str = "llama.cpp"  # llama.cpp (GGUF) | transformers (HF folder, reference) | vllm (HF folder, GPU)

    @property
    def label(self) -> str:
        name = self.model_path.name + (f" + {self.lora_path.name}" if self.lora_path else "")
        return name + (" (logits)" if self.logits_all else "")


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    grammar: str | None = None  # GBNF the output must follow (JSON schemas, tool calls)
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    top: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TokenDelta:
    """A piece of generated text; the last one carries the finish reason and the token counts."""

    text: str
    finish_reason: str | None = None
    completion_tokens: int = 0
    logprobs: list[TokenLogprob] | None = None


@dataclass
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    logprobs: list[TokenLogprob] | None = None
    first_token_at: float | None = None  # time.monotonic() of the first generated text
    cpu_seconds: float = 0.0

    @property
    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


Message = dict[str, Any]  # {"role": ..., "content": str}


class Engine(Protocol):
    """A loaded model. Engines that decode one sequence at a time implement `generate`; engines that
    batch (llama.cpp here) also have `slots`, and the pool's worker drives them through a
    `BatchingEngine`'s `start`/`step`/`release` instead."""

    spec: EngineSpec
    n_ctx: int

    def count_tokens(self, text: str) -> int:
        """Tokens of plain text (never parsed for special tokens); safe to call from any thread."""
        ...

    def chat_prompt(self, messages: list[Message]) -> list[int]:
        """The chat template applied and tokenized: template text may hold control tokens, message
        contents never do (a `<|im_end|>` typed by a user stays text). Safe from any thread."""
        ...

    def text_prompt(self, text: str) -> list[int]:
        """A raw completion prompt (BOS as the model wants it, no special tokens from the text)."""
        ...

    def generate(self, prompt: list[int], params: SamplingParams,
                 should_stop: Callable[[], bool]) -> Iterator[TokenDelta]:
        """Decode after `prompt`; only the engine's worker thread calls this."""
        ...

    def logits(self, tokens: list[int]) -> np.ndarray:
        """Logits at every position (needs an engine loaded with `logits_all`); worker thread only."""
        ...

    def memory_bytes(self) -> tuple[int, int]:
        """(shared weight bytes, this engine's own bytes: KV cache, buffers, adapter)."""
        ...

    def close(self) -> None: ...


class BatchingEngine(Engine, Protocol):
    slots: int

    @property
    def free_slots(self) -> int: ...

    def start(self, prompt: list[int], params: SamplingParams, emit: Callable[[TokenDelta], None],
              should_stop: Callable[[], bool]) -> Any:
        """Admit a sequence into a free slot (its prompt is read in the next steps)."""
        ...

    def step(self, sequences: list[Any]) -> None:
        """Decode one batch for the active sequences; finished ones have `done` set."""
        ...

    def release(self, sequence: Any) -> None: ...
