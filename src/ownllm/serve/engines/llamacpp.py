"""llama-cpp-python engine: GGUF models on CPU, chat template taken from the GGUF metadata.

A llama.cpp context is not thread-safe, so one lock serializes generation per loaded
model; engines are cached per model path so every request reuses the loaded weights.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_cpp import Llama

_engines: dict[tuple[str, int, str | None], LlamaCppEngine] = {}
_engines_lock = threading.Lock()


@dataclass
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class LlamaCppEngine:
    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None,
                 lora: Path | None = None) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self._llama = Llama(
            model_path=str(model_path),
            lora_path=str(lora) if lora else None,
            n_ctx=n_ctx,
            n_threads=n_threads or max(1, os.cpu_count() or 1),
            seed=0,
            verbose=False,
        )
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def chat(self, messages: list[dict[str, Any]], *, max_tokens: int = 256, temperature: float = 0.0,
             top_p: float = 1.0, stop: list[str] | None = None, seed: int | None = None) -> Completion:
        with self._lock:
            result = self._llama.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop,
                seed=seed,
            )
        choice = result["choices"][0]
        usage = result.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    def chat_stream(
        self, messages: list[dict[str, Any]], *, max_tokens: int = 256, temperature: float = 0.0,
        top_p: float = 1.0, stop: list[str] | None = None, seed: int | None = None,
    ) -> Iterator[tuple[str, str | None]]:
        """Yield (text delta, finish reason or None); holds the model lock for the whole stream."""
        with self._lock:
            for chunk in self._llama.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop,
                seed=seed, stream=True,
            ):
                choice = chunk["choices"][0]
                yield choice.get("delta", {}).get("content") or "", choice.get("finish_reason")


def get_engine(model_path: Path, n_ctx: int = 4096, n_threads: int | None = None,
               lora: Path | None = None) -> LlamaCppEngine:
    """One loaded engine per (model, context size, adapter): a tuned model is its base plus a GGUF LoRA."""
    key = (str(model_path), n_ctx, str(lora) if lora else None)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = LlamaCppEngine(model_path, n_ctx, n_threads, lora)
            _engines[key] = engine
        return engine
