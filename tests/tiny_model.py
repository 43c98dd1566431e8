"""A tiny Llama with the shipped model's tokenizer: real training plumbing in seconds.

Only the tokenizer comes from the shipped SmolLM2 GGUF (so chat templates and the synth
dataset tokenize exactly as for the real model); the weights are random and tiny. Tests
that check numbers against llama.cpp use the real SmolLM2 instead (test_export.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ownllm.models.hub import SMOLLM2_135M


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    gguf = SMOLLM2_135M.locate()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def qa_file(tmp_path: Path) -> Path:
    """A small chat training file: 24 facts the tiny model can memorize."""
    path = tmp_path / "train.jsonl"
    rows = []
    for i in range(24):
        rows.append({"messages": [{"role": "user", "content": f"What is the code of part {i}?"},
                                  {"role": "assistant", "content": f"Part {i} has code VM-{1000 + 7 * i}."}]})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path
