"""GGUF export of the Qwen2 family: llama.cpp must compute what PyTorch computes.

A tiny Qwen2 built in-process (2 layers, random weights and random Q/K/V biases, which Qwen2 has
and Llama does not) with the real Qwen2.5 vocabulary, so the shipped Qwen GGUF's tokenizer fields
fit it: this tests the layout (architecture keys, bias names, no rotary permutation), not what a
real model knows; the real 0.5B goes through the same code in `ownllm tune --model`. Logits are
compared position by position, which a wrong layout fails at once.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

from ownllm.models.hub import QWEN25_CODER_05B  # installed by `make install`
from ownllm.tune.export_gguf import write_lora_gguf, write_model_gguf
from ownllm.tune.verify import llama_logits, open_llama, prompt_ids

PROMPTS = ["What does Veltrano Mobility sell?", "保修期是多久？"]

def _tiny_qwen2(vocab_size: int, tied: bool) -> Qwen2ForCausalLM:
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rope_theta=1_000_000.0, rms_norm_eps=1e-6, tie_word_embeddings=tied,
                         initializer_range=0.1)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # Qwen2 initialises its biases to zero; random ones show whether they are exported
        for name, parameter in model.named_parameters():
            if name.endswith("proj.bias"):
                parameter.normal_(0.0, 0.5)
    return model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("qwen2")
    gguf = QWEN25_CODER_05B.locate()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = _tiny_qwen2(len(tokenizer), tied=False)
    model.save_pretrained(root / "base")
    return {"root": root, "model": model, "tokenizer": tokenizer, "gguf": gguf,
            "config": json.loads((root / "base" / "config.json").read_text())}


def _assert_same_logits(reference: torch.nn.Module, llm: object, tokenizer: object) -> None:
    for prompt in PROMPTS:
        ids = prompt_ids(tokenizer, prompt)
        with torch.no_grad():
            expected = reference(torch.tensor([ids])).logits[0].numpy()
        got = llama_logits(llm, ids)
        scale = float(np.abs(expected).max())
        assert np.abs(got - expected).max() < 0.02 * scale, prompt
        assert (got.argmax(-1) == expected.argmax(-1)).mean() >= 0.95, prompt


def test_a_qwen2_model_exports_to_gguf_with_its_biases(tiny):
    exported = write_model_gguf(tiny["root"] / "base", tiny["gguf"], tiny["root"] / "tiny-f16.gguf", "f16")
    _assert_same_logits(tiny["model"], open_llama(exported), tiny["tokenizer"])
    # the shipped Qwen models tie the output to the embeddings: llama.cpp then reuses token_embd
    tied = _tiny_qwen2(len(tiny["tokenizer"]), tied=True)
    tied.save_pretrained(tiny["root"] / "tied")
    exported = write_model_gguf(tiny["root"] / "tied", tiny["gguf"], tiny["root"] / "tied-f16.gguf", "f16")
    _assert_same_logits(tied, open_llama(exported), tiny["tokenizer"])


def test_a_qwen2_lora_gguf_is_applied_as_peft_applies_it(tiny):
    base = write_model_gguf(tiny["root"] / "base", tiny["gguf"], tiny["root"] / "base-f16.gguf", "f16")
    torch.manual_seed(1)
    peft_model = get_peft_model(Qwen2ForCausalLM.from_pretrained(tiny["root"] / "base"),
                                LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                           target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"]))
    peft_model.eval().save_pretrained(tiny["root"] / "adapter")
    lora = write_lora_gguf(tiny["root"] / "adapter", tiny["config"], tiny["root"] / "adapter.gguf")
    plain = llama_logits(open_llama(base), prompt_ids(tiny["tokenizer"], PROMPTS[0]))
    adapted = open_llama(base, lora)
    assert not np.allclose(plain, llama_logits(adapted, prompt_ids(tiny["tokenizer"], PROMPTS[0])), atol=1e-3)
    _assert_same_logits(peft_model, adapted, tiny["tokenizer"])
