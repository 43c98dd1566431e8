"""Engines behind one interface: the transformers reference engine, on SmolLM2's own weights dequantized
from the shipped GGUF, agrees with llama.cpp on the prompt and on what comes next; the vLLM engine
runs only with its package and a GPU, and says so otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ownllm.errors import InvalidInput
from ownllm.inference.engine import EngineSpec, SamplingParams
from ownllm.inference.pool import EnginePool
from ownllm.inference.vllm_engine import vllm_available
from ownllm.models.hub import DEFAULT_MODEL_ID, SMOLLM2_135M
from ownllm.tune.base import float32_weights_folder

PROMPTS = ["What does a lighthouse do?", "Name three colours.", "保修期是多久？"]


@pytest.fixture(scope="module")
def engines():  # type: ignore[no-untyped-def]
    folder = float32_weights_folder(DEFAULT_MODEL_ID)
    pool = EnginePool(4 << 30)
    llama = pool.handle(EngineSpec(SMOLLM2_135M.locate(), n_ctx=1024, n_threads=2, logits_all=True))
    reference = pool.handle(EngineSpec(Path(folder), n_ctx=1024, backend="transformers"))
    yield llama, reference
    pool.close()


def test_both_engines_render_the_same_prompt_tokens(engines) -> None:  # type: ignore[no-untyped-def]
    llama, reference = engines
    for prompt in PROMPTS:
        messages = [{"role": "user", "content": prompt + " <|im_end|>"}]
        assert llama.chat_prompt(messages) == reference.chat_prompt(messages)


def test_llama_cpp_agrees_with_the_reference_on_the_next_token(engines) -> None:  # type: ignore[no-untyped-def]
    """Teacher-forced over the reference's greedy continuation: the same weights, so nearly always the same pick."""
    llama, reference = engines
    hits = total = 0
    for prompt in PROMPTS:
        tokens = reference.chat_prompt([{"role": "user", "content": prompt}])
        continuation = reference.generate(tokens, SamplingParams(max_tokens=12)).text
        ids = tokens + reference.engine.tokenizer(continuation, add_special_tokens=False)["input_ids"]
        ours, theirs = llama.logits(ids), reference.logits(ids)
        picks_ours = ours[len(tokens) - 1:-1].argmax(axis=-1)
        picks_theirs = theirs[len(tokens) - 1:-1].argmax(axis=-1)
        hits += int(np.sum(picks_ours == picks_theirs))
        total += len(picks_ours)
    assert hits / total >= 0.9, f"top-1 agreement {hits}/{total}"


def test_vllm_runs_only_where_it_can_and_says_why_not() -> None:
    usable, why = vllm_available()
    if usable:  # a GPU machine with vllm installed: serve a short answer through the same interface
        pool = EnginePool(64 << 30)
        folder = float32_weights_folder(DEFAULT_MODEL_ID)
        engine = pool.handle(EngineSpec(Path(folder), n_ctx=1024, backend="vllm"))
        assert engine.chat([{"role": "user", "content": "Say hi."}], SamplingParams(max_tokens=8)).text
        pool.close()
        return
    assert why  # the reason is stated
    with pytest.raises(InvalidInput, match="vLLM engine cannot run here"):
        EnginePool(1 << 30).handle(EngineSpec(Path("/nowhere"), backend="vllm"))
    pytest.skip(f"vLLM engine not exercised: {why}")
