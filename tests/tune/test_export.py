"""GGUF export round trip on the real SmolLM2-135M: llama.cpp must compute what PyTorch computes.

A LoRA with random (non-zero) B stands in for a trained adapter, so the merged weights really
differ from the base. f16 must give identical greedy tokens; quantized exports are held to
teacher-forced top-1 agreement floors; a GGUF LoRA must change llama.cpp's output (a
silently ignored adapter would not) and agree with the PEFT model.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from ownllm.models.hub import SMOLLM2_135M
from ownllm.tune.base import ensure_dequantized
from ownllm.tune.export_gguf import write_lora_gguf, write_model_gguf
from ownllm.tune.merge import merge_adapter
from ownllm.tune.verify import adapter_changes_output, agreement, open_llama

Q8_TOP1_FLOOR = 0.9
Q4KM_TOP1_FLOOR = 0.6
LORA_ON_Q4_BASE_TOP1_FLOOR = 0.7


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    base_dir = ensure_dequantized(SMOLLM2_135M.id)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"],
                        init_lora_weights=False)
    model = get_peft_model(base, config)
    with torch.no_grad():  # a perturbation the size a short training run makes
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.mul_(0.05)
    model.eval()
    model.save_pretrained(root / "adapter")
    merged = merge_adapter(model, tokenizer, root / "merged")
    return {"root": root, "base_dir": base_dir, "tokenizer": tokenizer, "peft": model, "merged": merged}


def test_f16_and_q8_exports_match_pytorch(tuned):
    reference = AutoModelForCausalLM.from_pretrained(tuned["merged"], dtype=torch.float32).eval()
    f16 = write_model_gguf(tuned["merged"], SMOLLM2_135M.locate(), tuned["root"] / "m-f16.gguf", "f16")
    result = agreement(reference, tuned["tokenizer"], open_llama(f16))
    assert result.greedy_equal == result.prompts and result.top1 == 1.0, result
    q8 = write_model_gguf(tuned["merged"], SMOLLM2_135M.locate(), tuned["root"] / "m-q8.gguf", "q8_0")
    assert q8.stat().st_size < 0.6 * f16.stat().st_size
    assert agreement(reference, tuned["tokenizer"], open_llama(q8)).top1 >= Q8_TOP1_FLOOR


def test_q4_k_m_export_keeps_top1_agreement(tuned):
    reference = AutoModelForCausalLM.from_pretrained(tuned["merged"], dtype=torch.float32).eval()
    q4 = write_model_gguf(tuned["merged"], SMOLLM2_135M.locate(), tuned["root"] / "m-q4km.gguf", "q4_k_m")
    assert not q4.with_name("m-q4km.f16.tmp.gguf").exists()
    assert agreement(reference, tuned["tokenizer"], open_llama(q4)).top1 >= Q4KM_TOP1_FLOOR


def test_lora_gguf_is_applied_and_agrees_with_peft(tuned):
    base_config = json.loads((tuned["base_dir"] / "config.json").read_text())
    lora = write_lora_gguf(tuned["root"] / "adapter", base_config, tuned["root"] / "adapter.gguf")
    assert adapter_changes_output(SMOLLM2_135M.locate(), lora, tuned["tokenizer"])
    result = agreement(tuned["peft"], tuned["tokenizer"], open_llama(SMOLLM2_135M.locate(), lora))
    assert result.top1 >= LORA_ON_Q4_BASE_TOP1_FLOOR, result


def test_a_no_op_adapter_is_detected(tuned, tmp_path):
    """An adapter whose B is zero changes nothing: the same check that catches adapters llama.cpp ignores."""
    zero = tmp_path / "zero"
    shutil.copytree(tuned["root"] / "adapter", zero)
    from safetensors.torch import load_file, save_file

    weights = load_file(zero / "adapter_model.safetensors")
    save_file({k: (torch.zeros_like(v) if "lora_B" in k else v) for k, v in weights.items()},
              zero / "adapter_model.safetensors")
    base_config = json.loads((tuned["base_dir"] / "config.json").read_text())
    lora = write_lora_gguf(zero, base_config, tmp_path / "zero.gguf")
    assert not adapter_changes_output(SMOLLM2_135M.locate(), lora, tuned["tokenizer"])
