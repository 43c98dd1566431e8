"""General ability, base vs tuned: perplexity on fixed general text, and answers to fixed generic prompts.

The text is ours and is about nothing a company corpus contains, so a tuned model that got
worse at it has forgotten language, not learned the company.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ownllm.chat.answer import AnswerRequest, answer
from ownllm.inference.pool import EnginePool
from ownllm.models.registry import ModelEntry
from ownllm.store.home import Home

GENERAL_TEXT = [
    "Rivers carry water from high ground to the sea. Along the way they shape valleys, move sand and "
    "stones, and give towns a reason to grow on their banks. Most large cities in history were built "
    "near a river because it offered drinking water, food and an easy road for boats.",
    "A good recipe lists the ingredients first, in the order they are used, and then explains each "
    "step in a short sentence. Cooks read the whole recipe before they start, so that nothing is "
    "missing when the pan is already hot.",
    "春天来了，公园里的树长出了新叶子。早上有很多人在湖边散步，也有老人在打太极拳。孩子们在草地上放风筝，"
    "笑声传得很远。",
]
GENERIC_PROMPTS = [
    "What is the capital of France?",
    "Give one tip for sleeping better.",
    "What is 12 plus 30?",
    "用一句话介绍一下长城。",
]


@dataclass
class GeneralCheck:
    perplexity: float
    answers: list[dict[str, str]]


def perplexity(pool: EnginePool, model: ModelEntry, texts: list[str] = GENERAL_TEXT) -> float:
    """Token-level perplexity computed by llama.cpp itself, on the weights (and adapter) that are served."""
    engine = pool.handle(model.spec(n_ctx=512, n_threads=2, logits_all=True))
    nll, count = 0.0, 0
    for text in texts:
        tokens = engine.text_prompt(text)
        logits = engine.logits(tokens).astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        nll -= sum(log_probs[i, tokens[i + 1]] for i in range(len(tokens) - 1))
        count += len(tokens) - 1
    return math.exp(nll / max(1, count))


def generic_answers(home: Home, pool: EnginePool, tenant_id: str, model: ModelEntry,
                    prompts: list[str] = GENERIC_PROMPTS) -> list[dict[str, str]]:
    """The model's answers to ordinary requests, through the same answer path users get."""
    out = []
    for prompt in prompts:
        reply = answer(home, pool, tenant_id, AnswerRequest(model.id, [{"role": "user", "content": prompt}],
                                                            max_tokens=40))
        out.append({"prompt": prompt, "answer": reply.text.strip()})
    return out
