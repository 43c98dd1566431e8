"""bf16 training without PEFT's round trip of each adapter input through float32: the same numbers, fewer copies.

On a tiny in-process Llama in bf16 with a LoRA whose B is not zero (so every adapter is on the gradient's path).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ownllm.tune.base import load_base
from ownllm.tune.data import collate
from ownllm.tune.recipe import load_recipe
from ownllm.tune.stage_blocks import training_blocks_for
from ownllm.tune.train import add_lora, mixed_precision, token_loss_sum


def _adapted(tiny_base: Path, qa_file: Path) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    recipe = load_recipe("sft-lora", {"training.seq_len": 128, "lora.dropout": 0.0})
    base = load_base(str(tiny_base), torch.bfloat16)
    blocks = training_blocks_for(base.tokenizer, [qa_file], recipe).blocks[0]
    model = add_lora(base.model, recipe)
    torch.manual_seed(1)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.05)
    return model, collate(blocks[:4], base.pad_id)


def _loss_and_grads(model: torch.nn.Module, batch: dict[str, torch.Tensor], context) -> tuple[float, torch.Tensor]:
    model.zero_grad(set_to_none=True)
    with context:
        loss, count = token_loss_sum(model, batch)
    (loss / count).backward()
    return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad])


def test_bf16_steps_without_the_float32_round_trip_are_bit_identical(tiny_base: Path, qa_file: Path) -> None:
    model, batch = _adapted(tiny_base, qa_file)
    lora_layers = [m for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")]
    assert lora_layers and all(m.cast_input_dtype_enabled for m in lora_layers)
    peft_loss, peft_grads = _loss_and_grads(model, batch, torch.autocast("cpu", dtype=torch.bfloat16))
    with mixed_precision(model, True):
        assert not any(m.cast_input_dtype_enabled for m in lora_layers)  # the round trip is off inside
    ours_loss, ours_grads = _loss_and_grads(model, batch, mixed_precision(model, True))
    assert all(m.cast_input_dtype_enabled for m in lora_layers)  # and back on after, for anything else
    assert peft_grads.abs().sum() > 0
    assert ours_loss == peft_loss
    assert torch.equal(ours_grads, peft_grads)
