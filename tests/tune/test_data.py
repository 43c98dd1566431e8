"""Tokenizing and packing: loss only on assistant tokens, and packing changes nothing but speed."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ownllm.tune.data import IGNORE, chat_example, collate, pack, text_example, unpacked
from ownllm.tune.train import token_loss_sum


def test_chat_loss_covers_only_the_assistant_turn(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    example = chat_example(tokenizer, [{"role": "user", "content": "Capital of France?"},
                                       {"role": "assistant", "content": "Paris."}])
    trained = tokenizer.decode([t for t, label in zip(example.input_ids, example.labels, strict=True)
                                if label != IGNORE])
    assert trained.startswith("Paris.") and "France" not in trained and "<|im_end|>" in trained
    text = text_example(tokenizer, "Veltrano sells e-bikes.")
    assert text.labels == text.input_ids and text.input_ids[-1] == tokenizer.eos_token_id


def test_packed_blocks_compute_exactly_what_separate_examples_do(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    model = AutoModelForCausalLM.from_pretrained(tiny_base).eval()
    examples = [chat_example(tokenizer, [{"role": "user", "content": f"Question {i} " * (i + 1)},
                                         {"role": "assistant", "content": f"Answer {i}."}]) for i in range(6)]
    blocks = pack(examples, seq_len=128)
    assert len(blocks) < len(examples)
    assert sum(len(b.lengths) for b in blocks) == len(examples)
    with torch.no_grad():
        packed = sum(token_loss_sum(model, collate([b], tokenizer.pad_token_id))[0] for b in blocks)
        alone = sum(token_loss_sum(model, collate([b], tokenizer.pad_token_id))[0]
                    for b in unpacked(examples, 128))
    assert torch.allclose(packed, alone, rtol=1e-4), (packed, alone)
