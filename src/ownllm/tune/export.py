"""Export a registered tuned model to GGUF and record where the files went."""

from __future__ import annotations

import json
from pathlib import Path

from ownllm.errors import InvalidInput, NotFound
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.store.catalog import TunedModel
from ownllm.store.home import Home
from ownllm.tune.base import float32_weights_folder
from ownllm.tune.export_gguf import QUANTS, write_lora_gguf, write_model_gguf


def get_tuned(home: Home, model_id: str, tenant_id: str | None = None) -> TunedModel:
    with home.catalog.session() as session:
        row = session.get(TunedModel, model_id)
        if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
            raise NotFound(f"The model `{model_id}` does not exist or you do not have access to it.",
                           param="model", code="model_not_found")
        return row


def _record(home: Home, model_id: str, **paths: str) -> None:
    with home.catalog.session() as session:
        row = session.get(TunedModel, model_id)
        assert row is not None
        row.exports = {**(row.exports or {}), **paths}


def export_adapter(home: Home, model_id: str) -> Path:
    """The adapter as GGUF LoRA, refused if llama.cpp would not apply it (outputs unchanged)."""
    from ownllm.tune.verify import adapter_changes_output

    row = get_tuned(home, model_id)
    shipped = SHIPPED_MODELS.get(row.base_model)
    if shipped is None:
        raise InvalidInput(f"`{model_id}` was tuned from a local model folder; a GGUF LoRA needs the base "
                           "model's GGUF, which only shipped models have", param="model")
    adapter_dir = Path(row.adapter_path)
    base_folder = float32_weights_folder(row.base_model)
    base_config = json.loads((base_folder / "config.json").read_text())
    out = adapter_dir.parent / "export" / "adapter.gguf"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_lora_gguf(adapter_dir, base_config, out)
    from transformers import AutoTokenizer

    if not adapter_changes_output(shipped.locate(), out, AutoTokenizer.from_pretrained(adapter_dir)):
        out.unlink(missing_ok=True)
        raise InvalidInput(f"llama.cpp ignores the exported adapter of `{model_id}` (output unchanged); "
                           "not registering it", param="model")
    _record(home, model_id, adapter=str(out))
    return out


def export_model(home: Home, model_id: str, quant: str = "q8_0") -> Path:
    """The merged model as one GGUF file (merging now if the run did not)."""
    from ownllm.tune.merge import merge_adapter_dir

    if quant not in QUANTS:
        raise InvalidInput(f"unknown quantization {quant!r}; choose one of {', '.join(QUANTS)}", param="quant")
    row = get_tuned(home, model_id)
    shipped = SHIPPED_MODELS.get(row.base_model)
    if shipped is None:
        raise InvalidInput(f"`{model_id}`: GGUF export copies the vocabulary from a shipped base model's GGUF",
                           param="model")
    adapter_dir = Path(row.adapter_path)
    merged = Path(row.merged_path) if row.merged_path else adapter_dir.parent / "merged"
    if not (merged / "config.json").exists():
        merge_adapter_dir(float32_weights_folder(row.base_model), adapter_dir, merged)
        with home.catalog.session() as session:
            stored = session.get(TunedModel, model_id)
            assert stored is not None
            stored.merged_path = str(merged)
    out = adapter_dir.parent / "export" / f"model-{quant}.gguf"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_model_gguf(merged, shipped.locate(), out, quant)
    _record(home, model_id, **{f"model-{quant}": str(out), "model": str(out)})
    return out
