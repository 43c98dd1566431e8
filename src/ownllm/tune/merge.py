"""Fold a LoRA adapter into the base weights: a plain HF model folder, loadable without PEFT."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def merge_adapter(peft_model: Any, tokenizer: Any, out_dir: Path) -> Path:
    """Merge into a copy (the trained PEFT model stays usable) and write it atomically."""
    import copy

    merged = copy.deepcopy(peft_model).merge_and_unload()
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def merge_adapter_dir(base_dir: Path, adapter_dir: Path, out_dir: Path) -> Path:
    """Merge a saved adapter onto a base HF folder (used by `ownllm export` for models trained earlier)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, local_files_only=True)
    model = PeftModel.from_pretrained(base, adapter_dir)
    return merge_adapter(model, AutoTokenizer.from_pretrained(adapter_dir), out_dir)
