"""Continuous batching on llama.cpp: several sequences decoded together in one context.

One llama.cpp context holds `slots` sequences in a unified KV cache (each may use the whole
`n_ctx` the spec asks for). Each `step()` builds one batch: the last sampled token of every
decoding sequence, plus a chunk of the prompt of sequences still being read (prefill), so a long
prompt never stalls the others for more than a chunk. Every sequence has its own sampler chain
(its temperature, top-p, seed and, for constrained output, its grammar), and its own stop
strings, token budget and cancellation. A finished sequence leaves its tokens in its slot's KV
cache: the next request whose prompt shares that prefix (a chat template's system turn, a
conversation's history) starts after it.

Weights are loaded once per GGUF file and shared by every context on it; a LoRA adapter is a
context of its own on the shared weights, so an extra tuned model costs its KV cache and adapter,
not another copy of the model.
"""

from __future__ import annotations

import codecs
import ctypes
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ownllm.errors import InvalidInput
from ownllm.inference.engine import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    FINISH_STOP,
    SamplingParams,
    TokenDelta,
    TokenLogprob,
)

PREFILL_CHUNK = 256  # prompt tokens a sequence may add to one step


class SharedWeights:
    """A GGUF's weights and vocabulary, loaded once per process and shared by contexts and adapters."""

    _loaded: ClassVar[dict[str, SharedWeights]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        import llama_cpp
        from llama_cpp import _internals, _logger

        from ownllm.inference.native import quiet_native_stderr

        _logger.set_verbose(False)  # llama.cpp's own log: errors only
        params = llama_cpp.llama_model_default_params()
        with quiet_native_stderr():
            self.model = _internals.LlamaModel(path_model=str(path), params=params, verbose=False)
        self.path = path
        self.vocab = self.model.vocab
        self.n_vocab = self.model.n_vocab()
        self.metadata = self.model.metadata()
        self._adapters: dict[str, Any] = {}
        self._pieces: dict[int, bytes] = {}
        self.users = 0

    @classmethod
    def acquire(cls, path: Path) -> SharedWeights:
        with cls._lock:
            weights = cls._loaded.get(str(path))
            if weights is None:
                weights = cls._loaded[str(path)] = SharedWeights(path)
            weights.users += 1
            return weights

    def release(self) -> None:
        with SharedWeights._lock:
            self.users -= 1
            if self.users <= 0:
                SharedWeights._loaded.pop(str(self.path), None)
                for adapter in self._adapters.values():
                    _free_adapter(adapter)
                self._adapters.clear()
                self.model.close()

    def adapter(self, path: Path) -> Any:
        import llama_cpp

        with SharedWeights._lock:
            if str(path) not in self._adapters:
                adapter = llama_cpp.llama_adapter_lora_init(self.model.model, str(path).encode())
                if not adapter:
                    raise InvalidInput(f"llama.cpp cannot load the adapter {path.name}", param="model")
                self._adapters[str(path)] = adapter
            return self._adapters[str(path)]

    def is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def piece(self, token: int) -> bytes:
        """The bytes of one token as text (control tokens give none); cached, it is called per token."""
        cached = self._pieces.get(token)
        if cached is None:
            import llama_cpp

            size = 64
            while True:
                buffer = ctypes.create_string_buffer(size)
                n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, size, 0, False)
                if n >= 0:
                    break
                size = -n
            cached = self._pieces[token] = buffer.raw[:n]
        return cached


def _free_adapter(adapter: Any) -> None:
    import llama_cpp

    if hasattr(llama_cpp, "llama_adapter_lora_free"):
        llama_cpp.llama_adapter_lora_free(adapter)


@dataclass
class Sequence:
    """One request being decoded: its slot, prompt, sampler and the state of its text.

    The KV cache of its slot holds `prompt[:prefilled]` and then `out[:decoded]`; a sampled token
    not yet decoded is `out[decoded]` (at most one), decoded in the next step.
    """

    slot: int
    prompt: list[int]
    params: SamplingParams
    emit: Callable[[TokenDelta], None]
    should_stop: Callable[[], bool]
    sampler: Any
    budget: int
    prefilled: int = 0
    out: list[int] = field(default_factory=list)
    decoded: int = 0
    text: str = ""
    sent: int = 0
    done: bool = False
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))
    batch_index: int = -1  # where its logits are in the current batch
    cpu_seconds: float = 0.0

    @property
    def pending(self) -> bool:
        return len(self.out) > self.decoded

    @property
    def cached(self) -> list[int]:
        """The tokens its slot's KV cache holds, for the next request's prefix."""
        return self.prompt[: self.prefilled] + self.out[: self.decoded]


class BatchedContext:
    """A llama.cpp context with `slots` sequences; only the engine's worker thread calls it."""

    def __init__(self, weights: SharedWeights, n_ctx: int, slots: int, n_threads: int, lora: Path | None,
                 logits_all: bool = False) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self.weights = weights
        self.slots = slots
        self.n_ctx_seq = n_ctx
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * slots
        params.n_batch = max(512, n_ctx) if logits_all else 512
        params.n_ubatch = params.n_batch
        params.n_seq_max = slots
        params.n_threads = params.n_threads_batch = n_threads
        if hasattr(params, "kv_unified"):
            params.kv_unified = True  # measured: as fast as split streams sequentially, faster batched
        self.ctx = _internals.LlamaContext(model=weights.model, params=params, verbose=False)
        if lora is not None:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(weights.adapter(lora))
            scales = (ctypes.c_float * 1)(1.0)
            if llama_cpp.llama_set_adapters_lora(self.ctx.ctx, adapters, 1, scales) != 0:
                raise InvalidInput(f"llama.cpp cannot apply the adapter {lora.name}", param="model")
        self.n_batch = params.n_batch
        self.batch = _internals.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=1, verbose=False)
        self._cached: list[list[int]] = [[] for _ in range(slots)]  # tokens each slot's KV cache holds
        self._busy = [False] * slots

    @property
    def free_slots(self) -> int:
        return self._busy.count(False)

    # ------------------------------------------------------------------ slots and the prefix cache
    def start(self, prompt: list[int], params: SamplingParams, emit: Callable[[TokenDelta], None],
              should_stop: Callable[[], bool]) -> Sequence:
        """Take the free slot whose cache shares the longest prefix with `prompt` and reuse that prefix."""
        if len(prompt) >= self.n_ctx_seq:
            raise InvalidInput(f"the prompt has {len(prompt)} tokens; this model's context is {self.n_ctx_seq}",
                               param="messages", code="context_length_exceeded")
        free = [slot for slot in range(self.slots) if not self._busy[slot]]
        if not free:
            raise RuntimeError("no free slot")
        slot = max(free, key=lambda s: _common_prefix(self._cached[s], prompt))
        shared = min(_common_prefix(self._cached[slot], prompt), len(prompt) - 1)  # the last one is always decoded
        self.ctx.kv_cache_seq_rm(slot, shared, -1)
        self._cached[slot] = []
        self._busy[slot] = True
        budget = min(params.max_tokens, self.n_ctx_seq - len(prompt))
        return Sequence(slot, prompt, params, emit, should_stop, make_sampler(self.weights, params), budget,
                        prefilled=shared)

    def release(self, seq: Sequence) -> None:
        self._busy[seq.slot] = False
        self._cached[seq.slot] = seq.cached

    # ------------------------------------------------------------------ one decode step
    def step(self, sequences: list[Sequence]) -> None:
        """Decode one batch for `sequences`: each pending token, then prompt chunks in the room left."""
        batch = self.batch.batch
        n, room = 0, self.n_batch
        for seq in sequences:
            seq.batch_index = -1
            if seq.pending:
                _put(batch, n, seq.out[-1], len(seq.prompt) + seq.decoded, seq.slot, True)
                seq.batch_index, n, room = n, n + 1, room - 1
        for seq in sequences:
            if seq.prefilled < len(seq.prompt) and room > 0:
                chunk = seq.prompt[seq.prefilled: seq.prefilled + min(PREFILL_CHUNK, room)]
                completes = seq.prefilled + len(chunk) == len(seq.prompt)
                for offset, token in enumerate(chunk):
                    last = completes and offset == len(chunk) - 1
                    _put(batch, n, token, seq.prefilled + offset, seq.slot, last)
                    if last:
                        seq.batch_index = n
                    n += 1
                room -= len(chunk)
                seq.prefilled += len(chunk)
        if n == 0:
            return
        batch.n_tokens = n
        started = time.thread_time()
        status = _decode(self.ctx, batch)
        share = (time.thread_time() - started) / max(1, len(sequences))
        for seq in sequences:
            seq.cpu_seconds += share
            if status != 0:
                self._finish(seq, FINISH_LENGTH)
            elif seq.batch_index >= 0:
                if seq.pending:
                    seq.decoded += 1
                self._sample(seq)

    def _sample(self, seq: Sequence) -> None:
        weights = self.weights
        logprobs = None
        if seq.params.logprobs:
            logits = np.ctypeslib.as_array(self.ctx.get_logits_ith(seq.batch_index), shape=(weights.n_vocab,))
            logprobs = _log_softmax(logits)
        token = seq.sampler.sample(self.ctx, seq.batch_index)
        if weights.is_eog(token):
            self._finish(seq, FINISH_STOP)
            return
        if seq.should_stop():
            self._finish(seq, FINISH_CANCELLED)
            return
        seq.out.append(token)
        piece = seq.decoder.decode(weights.piece(token))
        seq.text += piece
        info = None
        if logprobs is not None:
            info = [TokenLogprob(piece, float(logprobs[token]), _top(logprobs, seq.params.top_logprobs, weights))]
        stops = [s for s in seq.params.stop if s]
        hold = max((len(s) for s in stops), default=1) - 1
        cut = _first_stop(seq.text, stops, max(0, seq.sent - hold))
        if cut is not None:
            seq.text = seq.text[:cut]
            self._finish(seq, FINISH_STOP, info, flush=False)
            return
        if len(seq.out) >= seq.budget:
            self._finish(seq, FINISH_LENGTH, info)
            return
        safe = len(seq.text) - hold if stops else len(seq.text)
        if safe > seq.sent or info is not None:
            seq.emit(TokenDelta(seq.text[seq.sent:max(safe, seq.sent)], None, 0, info))
            seq.sent = max(safe, seq.sent)

    def _finish(self, seq: Sequence, reason: str, info: list[TokenLogprob] | None = None, flush: bool = True) -> None:
        if flush:
            seq.text += seq.decoder.decode(b"", final=True)
        seq.emit(TokenDelta(seq.text[seq.sent:], reason, len(seq.out), info))
        seq.sent = len(seq.text)
        seq.done = True

    # ------------------------------------------------------------------ whole-prompt logits
    def logits(self, tokens: list[int]) -> np.ndarray:
        """Logits at every position of `tokens` (perplexity, export checks); slot 0, nothing cached."""
        self.ctx.kv_cache_seq_rm(0, 0, -1)
        self._cached[0] = []
        batch = self.batch.batch
        rows = []
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start:start + self.n_batch]
            for offset, token in enumerate(chunk):
                _put(batch, offset, token, start + offset, 0, True)
            batch.n_tokens = len(chunk)
            if _decode(self.ctx, batch) != 0:
                raise RuntimeError("llama.cpp could not evaluate the text")
            for offset in range(len(chunk)):
                rows.append(np.ctypeslib.as_array(self.ctx.get_logits_ith(offset),
                                                  shape=(self.weights.n_vocab,)).copy())
        self.ctx.kv_cache_seq_rm(0, 0, -1)
        return np.stack(rows)

    def close(self) -> None:
        self.batch.close()
        self.ctx.close()


def _put(batch: Any, index: int, token: int, position: int, seq_id: int, logits: bool) -> None:
    batch.token[index] = token
    batch.pos[index] = position
    batch.n_seq_id[index] = 1
    batch.seq_id[index][0] = seq_id
    batch.logits[index] = logits


def _decode(ctx: Any, batch: Any) -> int:
    import llama_cpp

    return int(llama_cpp.llama_decode(ctx.ctx, batch))


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _first_stop(text: str, stops: list[str], start: int) -> int | None:
    found = [i for i in (text.find(s, start) for s in stops) if i >= 0]
    return min(found) if found else None


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    values = logits.astype(np.float64)
    values -= values.max()
    return values - np.log(np.exp(values).sum())


def _top(logprobs: np.ndarray, k: int, weights: SharedWeights) -> list[tuple[str, float]]:
    if k <= 0:
        return []
    best = np.argpartition(-logprobs, k)[:k]
    best = best[np.argsort(-logprobs[best])]
    return [(weights.piece(int(t)).decode("utf-8", errors="replace"), float(logprobs[t])) for t in best]


def _free_chain(params: SamplingParams) -> Any:
    from llama_cpp import _internals

    sampler = _internals.LlamaSampler()
    if params.temperature <= 0:
        sampler.add_greedy()
    else:
        sampler.add_top_k(40)
        sampler.add_top_p(params.top_p, 1)
        sampler.add_min_p(0.05, 1)
        sampler.add_temp(params.temperature)
        sampler.add_dist(params.seed if params.seed is not None else random.randrange(2**31))
    return sampler


class GrammarSampler:
    """Constrained sampling that checks one token, not the vocabulary.

    Applying a grammar to every candidate costs a walk of the grammar's stacks per token of the
    vocabulary (49k for SmolLM2, 151k for Qwen) at every step; for a schema with nested bounded
    arrays that was ~0.4 s a token here. So the token is sampled freely first and only that
    token is checked; when the grammar refuses it, the grammar filters the whole vocabulary and
    the token is sampled again from what is left (llama.cpp's own common sampler does the same).
    Greedy decoding gives exactly the tokens grammar-first filtering gives; with sampling, the first
    draw comes from the top-k/top-p truncated distribution and is kept only when the grammar allows it.
    """

    def __init__(self, weights: SharedWeights, params: SamplingParams) -> None:
        import llama_cpp

        assert params.grammar
        self.free = _free_chain(params)
        self.grammar = llama_cpp.llama_sampler_init_grammar(weights.vocab, params.grammar.encode(), b"root")
        if not self.grammar:
            raise InvalidInput("the output constraint could not be compiled into a grammar", param="response_format")
        self.n_vocab = weights.n_vocab
        self._one = (llama_cpp.llama_token_data * 1)()
        self._dtype = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])

    def __del__(self) -> None:
        import llama_cpp

        if getattr(self, "grammar", None):
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None

    def _allowed(self, token: int) -> bool:
        import ctypes

        import llama_cpp

        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        single = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(single))
        return self._one[0].logit != float("-inf")

    def sample(self, ctx: Any, index: int) -> int:
        import ctypes

        import llama_cpp

        token = self.free.sample(ctx, index)
        if not self._allowed(token):
            logits = np.ctypeslib.as_array(ctx.get_logits_ith(index), shape=(self.n_vocab,))
            data = np.zeros(self.n_vocab, dtype=self._dtype)
            data["id"] = np.arange(self.n_vocab, dtype=np.int32)
            data["logit"] = logits
            candidates = llama_cpp.llama_token_data_array(
                data.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)), self.n_vocab, -1, False)
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            llama_cpp.llama_sampler_apply(self.free.sampler, ctypes.byref(candidates))
            token = int(candidates.data[candidates.selected].id)
            llama_cpp.llama_sampler_accept(self.free.sampler, token)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        return token


def make_sampler(weights: SharedWeights, params: SamplingParams) -> Any:
    """The sampler for one sequence: greedy or top-k/top-p/min-p/temp/seeded, checked by its grammar if any."""
    return GrammarSampler(weights, params) if params.grammar else _free_chain(params)
