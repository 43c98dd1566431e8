"""Fold a LoRA adapter into the base weights: a plain HF model folder, loadable without PEFT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ownllm.store.publish import publish_dir


def merge_adapter(peft_model: Any, tokenizer: Any, out_dir: Path) -> Path:
    """Merge into a copy (the trained PEFT model stays usable) and write it atomically."""
    import copy

    merged = copy.deepcopy(peft_model).merge_and_unload()

    def write(staging: Path) -> None:
        merged.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    publish_dir(out_dir, write)
    return out_dir


def merge_adapter_dir(base_dir: Path, adapter_dir: Path, out_dir: Path) -> Path:
    """Merge a saved adapter onto a base HF folder (used by `ownllm export` for models trained earlier)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, local_files_only=True)
    model = PeftModel.from_pretrained(base, adapter_dir)
    return merge_adapter(model, AutoTokenizer.from_pretrained(adapter_dir), out_dir)
