"""Check an export against the PyTorch model it came from, on llama.cpp itself.

Two measures on fixed prompts: the greedy continuation (f16 must match token for token)
and top-1 agreement under teacher forcing (at each position of the PyTorch continuation,
does llama.cpp pick the same next token). And one guard: an adapter that llama.cpp
silently ignores leaves the output unchanged, so "with" and "without" must differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ownllm.inference.engine import EngineSpec
from ownllm.inference.pool import EngineHandle, shared_pool

FIXED_PROMPTS = [
    "What does Veltrano Mobility sell?",
    "Write one sentence about electric bikes.",
    "保修期是多久？",
]


@dataclass
class Agreement:
    greedy_equal: int  # prompts whose greedy continuations are identical
    prompts: int
    top1: float  # teacher-forced top-1 agreement over all positions


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=True,
                                        add_generation_prompt=True)
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


@torch.no_grad()
def torch_greedy(model: Any, ids: list[int], n: int) -> list[int]:
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=n, do_sample=False)
    return out[0, len(ids):].tolist()


def open_llama(path: Path, lora: Path | None = None) -> EngineHandle:
    """An engine that keeps every position's logits, from the process's engine pool."""
    return shared_pool().handle(EngineSpec(Path(path), Path(lora) if lora else None, n_ctx=512, logits_all=True,
                                           n_threads=2))


def llama_logits(llm: EngineHandle, ids: list[int]) -> np.ndarray:
    return llm.logits(list(ids))


def llama_greedy(llm: EngineHandle, ids: list[int], n: int, eos: int | None) -> list[int]:
    tokens = list(ids)
    out: list[int] = []
    for _ in range(n):
        nxt = int(np.argmax(llama_logits(llm, tokens)[-1]))
        out.append(nxt)
        if nxt == eos:
            break
        tokens.append(nxt)
    return out


def agreement(model: Any, tokenizer: Any, llm: Any, prompts: list[str] = FIXED_PROMPTS, n: int = 12) -> Agreement:
    equal, hits, total = 0, 0, 0
    for prompt in prompts:
        ids = prompt_ids(tokenizer, prompt)
        reference = torch_greedy(model, ids, n)
        got = llama_greedy(llm, ids, n, tokenizer.eos_token_id)
        equal += int(got == reference[: len(got)] and len(got) == len(reference))
        logits = llama_logits(llm, ids + reference[:-1])
        predicted = logits[len(ids) - 1:].argmax(axis=-1).tolist()
        hits += sum(int(p == r) for p, r in zip(predicted, reference, strict=False))
        total += len(reference)
    return Agreement(equal, len(prompts), hits / max(1, total))


def adapter_changes_output(base_gguf: Path, lora_gguf: Path, tokenizer: Any,
                           prompts: list[str] = FIXED_PROMPTS) -> bool:
    """False means llama.cpp ignored the adapter (or it is a no-op): never ship such an export."""
    plain, adapted = open_llama(base_gguf), open_llama(base_gguf, lora_gguf)
    for prompt in prompts:
        ids = prompt_ids(tokenizer, prompt)
        if not np.allclose(llama_logits(plain, ids)[-1], llama_logits(adapted, ids)[-1], atol=1e-4):
            return True
    return False
