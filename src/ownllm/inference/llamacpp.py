"""llama.cpp through llama-cpp-python: GGUF models (and GGUF LoRA adapters) on CPU.

This module is the only place in ownllm that opens llama.cpp: serving, RAG, synth teachers,
evaluation (perplexity), export checks and the ingest token counter all come through here.
Generation is our own loop over `Llama.generate`, so stop strings, cancellation between tokens
and exact token counts are handled the same way for every caller.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ownllm.errors import InvalidInput
from ownllm.inference.chat_template import ChatTemplate, Segment
from ownllm.inference.engine import EngineSpec, Message, SamplingParams, TokenDelta
from ownllm.inference.native import quiet_native_stderr

_ZERO_WIDTH = "\u200b"


def _metadata_int(metadata: dict[str, str], suffix: str, default: int) -> int:
    for key, value in metadata.items():
        if key.endswith(suffix):
            with contextlib.suppress(ValueError):
                return int(value)
    return default


class LlamaCppEngine:
    """A GGUF model on llama.cpp: shared weights, one batching context (see batching.py)."""

    def __init__(self, spec: EngineSpec) -> None:
        from ownllm.inference.batching import BatchedContext, SharedWeights

        self.spec = spec
        self.weights = SharedWeights.acquire(spec.model_path)
        self.slots = 1 if spec.logits_all else max(1, spec.slots)
        try:
            with quiet_native_stderr():
                self.context = BatchedContext(self.weights, spec.n_ctx, self.slots,
                                              spec.n_threads or max(1, os.cpu_count() or 1), spec.lora_path,
                                              spec.logits_all)
        except BaseException:
            self.weights.release()
            raise
        self.n_ctx = spec.n_ctx
        model = self.weights.model
        self._bos_text = model.token_get_text(model.token_bos()) if model.token_bos() >= 0 else ""
        eos_text = model.token_get_text(model.token_eos()) if model.token_eos() >= 0 else ""
        self.template = ChatTemplate(self.weights.metadata.get("tokenizer.chat_template"), self._bos_text, eos_text)
        self._control_texts: list[str] | None = None
        self._control_lock = threading.Lock()

    # ------------------------------------------------------------------ tokens (any thread)
    def _tokenize(self, text: str, *, bos: bool = False, special: bool = False) -> list[int]:
        return self.weights.model.tokenize(text.encode("utf-8"), add_bos=bos, special=special)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def control_texts(self) -> list[str]:
        """The text of every control token (`<|im_end|>`, `<s>`…), longest first."""
        with self._control_lock:
            if self._control_texts is None:
                import llama_cpp

                model, vocab = self.weights.model, self.weights.vocab
                found = {model.token_get_text(token) for token in range(self.weights.n_vocab)
                         if llama_cpp.llama_vocab_is_control(vocab, token)}
                self._control_texts = sorted((t for t in found if t), key=len, reverse=True)
            return self._control_texts

    def neutralize(self, text: str) -> str:
        """Break every control-token string in `text` with a zero-width space, so it stays plain text."""
        for token_text in self.control_texts():
            if token_text in text:
                text = text.replace(token_text, token_text[:1] + _ZERO_WIDTH + token_text[1:])
        return text

    def chat_prompt(self, messages: list[Message], **template_vars: Any) -> list[int]:
        segments = self.template.segments(messages, self.neutralize, **template_vars)
        return self._tokens_of(segments)

    def _tokens_of(self, segments: list[Segment]) -> list[int]:
        rendered_start = segments[0].text if segments else ""
        tokens: list[int] = []
        for index, segment in enumerate(segments):
            first = index == 0 and not (self._bos_text and rendered_start.startswith(self._bos_text))
            if segment.text:
                tokens += self._tokenize(segment.text, bos=first, special=not segment.is_content)
        return tokens

    def text_prompt(self, text: str) -> list[int]:
        return self._tokenize(text, bos=True)

    # ------------------------------------------------------------------ decoding (worker thread only)
    @property
    def free_slots(self) -> int:
        return self.context.free_slots

    def start(self, prompt: list[int], params: SamplingParams, emit: Callable[[TokenDelta], None],
              should_stop: Callable[[], bool]) -> Any:
        return self.context.start(prompt, params, emit, should_stop)

    def step(self, sequences: list[Any]) -> None:
        self.context.step(sequences)

    def release(self, sequence: Any) -> None:
        self.context.release(sequence)

    def generate(self, prompt: list[int], params: SamplingParams,
                 should_stop: Callable[[], bool]) -> Iterator[TokenDelta]:
        """One sequence on its own (callers outside the pool): step until it is done."""
        deltas: list[TokenDelta] = []
        sequence = self.start(prompt, params, deltas.append, should_stop)
        try:
            while not sequence.done:
                self.step([sequence])
                yield from deltas
                deltas.clear()
        finally:
            self.release(sequence)

    def logits(self, tokens: list[int]) -> np.ndarray:
        if not self.spec.logits_all:
            raise RuntimeError("logits() needs an engine loaded with logits_all=True")
        return self.context.logits(tokens)

    # ------------------------------------------------------------------ memory
    def memory_bytes(self) -> tuple[int, int]:
        return estimate_memory(self.spec, self.weights.metadata, self.weights.n_vocab)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()
        self.weights.release()


def _vocab_only(model_path: Path) -> Any:
    """llama.cpp's load of the header and vocabulary alone: no weights, well under a second."""
    from llama_cpp import Llama

    with quiet_native_stderr():  # llama.cpp logs a context warning even for a vocabulary-only load
        return Llama(model_path=str(model_path), vocab_only=True, verbose=False)


def read_header(model_path: Path) -> tuple[dict[str, str], int]:
    """GGUF key/values and the vocabulary's size, without loading the weights (for memory estimates before a load).

    llama.cpp reads them with a vocabulary-only load: 0.4 s for Qwen2.5's 151k-token vocabulary, where gguf-py's
    `GGUFReader` builds a Python object per vocabulary entry and took 12.8 s here, in every process that loads
    the model. Both give the same values; this one also keeps the string keys, as a loaded engine's do. The size
    comes from the vocabulary itself: many headers have no `<arch>.vocab_size` (Qwen2.5's has none), and the
    fallback sized Qwen's logits buffer for a third of its 151,936 tokens.
    """
    vocab = _vocab_only(model_path)
    try:
        return dict(vocab.metadata), vocab.n_vocab()
    finally:
        vocab.close()


def estimate_memory(spec: EngineSpec, metadata: dict[str, str], n_vocab: int) -> tuple[int, int]:
    """(weights, own): weights are memory-mapped and shared by every engine on the same file; own is
    the KV cache (f16 keys and values), the logits buffer and the adapter, plus compute scratch."""
    weights = spec.model_path.stat().st_size
    layers = _metadata_int(metadata, ".block_count", 32)
    width = _metadata_int(metadata, ".embedding_length", 2048)
    heads = max(1, _metadata_int(metadata, ".attention.head_count", 16))
    kv_heads = _metadata_int(metadata, ".attention.head_count_kv", heads)
    kv = 2 * layers * spec.n_ctx * max(1, spec.slots) * (width * kv_heads // heads) * 2
    logits = spec.n_ctx * n_vocab * 4 if spec.logits_all else n_vocab * 4
    adapter = spec.lora_path.stat().st_size if spec.lora_path and spec.lora_path.exists() else 0
    scratch = 32 * (1 << 20) + width * spec.n_ctx * 16
    return weights, kv + logits + adapter + scratch


def vocab_token_counter(model_path: Path) -> Callable[[str], int]:
    """Count tokens with a model's own tokenizer; only the vocabulary is loaded (well under a second)."""
    vocab = _vocab_only(model_path)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    return count


def quantize_gguf(source: Path, target: Path, quant: str) -> None:
    """llama.cpp's own quantizer (e.g. f16 → q4_k_m), in-process."""
    import llama_cpp

    types = {"q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
             "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "q5_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M}
    if quant not in types:
        raise InvalidInput(f"unknown quantization {quant!r}; choose one of {', '.join(types)}", param="quant")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = types[quant]
    params.nthread = 0
    with quiet_native_stderr():
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params)
    if status != 0:
        raise InvalidInput(f"llama.cpp could not quantize {source.name} to {quant} (status {status})", param="quant")
