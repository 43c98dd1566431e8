"""`ownllm export`: a merged model → GGUF (f16, q8_0, q4_k_m), and a LoRA adapter → GGUF LoRA.

Our own writer on the `gguf` library: tensor names and Q/K layout from `gguf_map`, model
hyper-parameters from the HF config, and the vocabulary, merges and chat template copied
from the base model's shipped GGUF so llama.cpp tokenizes exactly as the base did.
f16 and q8_0 are written directly; q4_k_m is made from our f16 file by llama.cpp's own
quantizer (the `gguf` package can read K-quants but not write them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ownllm.errors import InvalidInput
from ownllm.inference.llamacpp import quantize_gguf
from ownllm.tune.gguf_map import UnsupportedTensor, gguf_architecture, gguf_name, heads_for, permute_rows

QUANTS = ("f16", "q8_0", "q4_k_m")
_SKIP_FROM_BASE = {"general.file_type", "general.quantization_version", "general.type", "general.name"}


def _copy_tokenizer_fields(writer: object, base_gguf: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(base_gguf)
    for name, field in reader.fields.items():
        if not name.startswith("tokenizer.") or name in _SKIP_FROM_BASE:
            continue
        main = field.types[0]
        sub = field.types[-1] if main == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), main, sub_type=sub)


def _architecture(config: dict, source: Path) -> tuple[str, bool]:
    try:
        return gguf_architecture(config)
    except UnsupportedTensor as error:
        raise InvalidInput(f"{source}: {error}", param="model") from error


def _add_model_params(writer: object, config: dict, name: str) -> None:
    """Hyper-parameters under the writer's architecture prefix (`llama.…`, `qwen2.…`): the same set for both."""
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    rope = config.get("rope_parameters") or {}
    writer.add_name(name)
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(hidden)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(config.get("num_key_value_heads", heads))
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-5)))
    writer.add_rope_dimension_count(config.get("head_dim") or hidden // heads)
    writer.add_vocab_size(config["vocab_size"])


def _tensor(array: np.ndarray, quant: str) -> tuple[np.ndarray, object | None]:
    import gguf

    if array.ndim == 1 or quant == "f32":
        return array.astype(np.float32), None
    if quant == "q8_0" and array.shape[-1] % 32 == 0:
        return gguf.quants.quantize(array.astype(np.float32), gguf.GGMLQuantizationType.Q8_0), \
            gguf.GGMLQuantizationType.Q8_0
    return array.astype(np.float16), None


def _load_state(folder: Path, pattern: str = "*.safetensors") -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    state: dict[str, np.ndarray] = {}
    files = sorted(folder.glob(pattern))
    if not files:
        raise InvalidInput(f"{folder}: no {pattern} weights to export", param="model")
    for path in files:
        state.update(load_file(path))
    return state


def write_model_gguf(hf_folder: Path, base_gguf: Path, out_path: Path, quant: str = "f16") -> Path:
    """Write the merged HF model at `hf_folder` as GGUF; q4_k_m goes through an f16 file first."""
    import gguf

    if quant not in QUANTS:
        raise InvalidInput(f"unknown quantization {quant!r}; choose one of {', '.join(QUANTS)}", param="quant")
    if quant == "q4_k_m":
        f16 = write_model_gguf(hf_folder, base_gguf, out_path.with_name(out_path.stem + ".f16.tmp.gguf"), "f16")
        try:
            return llama_quantize(f16, out_path, "q4_k_m")
        finally:
            f16.unlink(missing_ok=True)
    config = json.loads((hf_folder / "config.json").read_text())
    arch, permuted = _architecture(config, hf_folder)
    state = _load_state(hf_folder)
    n_head, n_kv = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    tmp = out_path.with_name(out_path.name + ".tmp")
    writer = gguf.GGUFWriter(tmp, arch)
    _add_model_params(writer, config, hf_folder.name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if quant == "q8_0" else gguf.LlamaFileType.MOSTLY_F16)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _copy_tokenizer_fields(writer, base_gguf)
    for name in sorted(state):
        if name == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue  # llama.cpp reuses token_embd when output.weight is absent
        array = state[name].astype(np.float32)
        heads = heads_for(name, n_head, n_kv) if permuted else None
        if heads:
            array = permute_rows(array, heads)
        data, raw_type = _tensor(array, quant)
        writer.add_tensor(gguf_name(name), data, raw_dtype=raw_type)
    _finish(writer)
    tmp.replace(out_path)
    return out_path


def _finish(writer: object) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_quantize(source: Path, out_path: Path, quant: str) -> Path:
    quantize_gguf(source, out_path, quant)
    return out_path


def write_lora_gguf(adapter_dir: Path, base_config: dict, out_path: Path) -> Path:
    """A PEFT LoRA adapter as a GGUF LoRA that llama.cpp applies on top of the base GGUF."""
    import gguf

    adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text())
    state = _load_state(adapter_dir, "adapter_model.safetensors")
    n_head = base_config["num_attention_heads"]
    n_kv = base_config.get("num_key_value_heads", n_head)
    arch, permuted = _architecture(base_config, adapter_dir)
    tmp = out_path.with_name(out_path.name + ".tmp")
    writer = gguf.GGUFWriter(tmp, arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(adapter_config["lora_alpha"]))
    written = 0
    for name in sorted(state):
        if not name.endswith("lora_A.weight"):
            continue
        stem = name[: -len(".lora_A.weight")]
        hf_name = stem.replace("base_model.model.", "", 1) + ".weight"
        a = state[name].astype(np.float32)
        b = state[f"{stem}.lora_B.weight"].astype(np.float32)
        heads = heads_for(hf_name, n_head, n_kv) if permuted else None
        if heads:
            b = permute_rows(b, heads)
        target = gguf_name(hf_name)
        writer.add_tensor(f"{target}.lora_a", a)
        writer.add_tensor(f"{target}.lora_b", b)
        written += 1
    if not written:
        raise InvalidInput(f"{adapter_dir}: the adapter has no LoRA weights", param="model")
    _finish(writer)
    tmp.replace(out_path)
    return out_path
