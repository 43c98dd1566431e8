"""Tensor names and layouts between Hugging Face checkpoints (Llama, Qwen2) and GGUF.

Both families name their tensors alike in GGUF; Qwen2 adds biases on Q, K and V. For Llama,
llama.cpp stores the Q and K projections with the rotary halves interleaved differently from
HF, so those rows are permuted on the way out (the inverse of what transformers does when it
reads a GGUF); LoRA's B matrix has the projection's output rows, so it is permuted the same
way, A is left alone. Qwen2 runs llama.cpp's NeoX rotary, HF's own layout: nothing permuted.
"""

from __future__ import annotations

import re

import numpy as np

# HF model_type → (GGUF architecture, whether Q/K rows are permuted for llama.cpp's rotary)
ARCHITECTURES = {"llama": ("llama", True), "qwen2": ("qwen2", False)}
_LAYER = re.compile(r"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")
_LAYER_NAMES = {
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_GLOBAL_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


class UnsupportedTensor(ValueError):
    pass


def gguf_name(hf_name: str) -> str:
    if hf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[hf_name]
    match = _LAYER.match(hf_name)
    if match and match.group(2) in _LAYER_NAMES:
        return f"blk.{match.group(1)}.{_LAYER_NAMES[match.group(2)]}.{match.group(3)}"
    raise UnsupportedTensor(f"no GGUF name for tensor {hf_name!r} (only Llama and Qwen2 models export)")


def gguf_architecture(config: dict) -> tuple[str, bool]:
    """(GGUF architecture, permute Q/K rows) for an HF config; a ValueError for a family we cannot export."""
    model_type = config.get("model_type")
    if model_type not in ARCHITECTURES:
        raise UnsupportedTensor(f"model type {model_type!r} cannot be exported yet "
                                f"({', '.join(ARCHITECTURES)} only)")
    return ARCHITECTURES[model_type]


def permute_rows(weight: np.ndarray, n_head: int) -> np.ndarray:
    """HF rotary layout → llama.cpp layout, on the output (row) dimension."""
    rows = weight.shape[0]
    return (weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def heads_for(hf_name: str, n_head: int, n_kv_head: int) -> int | None:
    """How many heads to permute by, or None when the tensor is not Q or K."""
    if ".self_attn.q_proj" in hf_name:
        return n_head
    if ".self_attn.k_proj" in hf_name:
        return n_kv_head
    return None
