"""Planning a tuning run: which recipe, base, data and files, validated before any job exists.

Kept apart from the run itself so that the API server can check a request without importing
PyTorch; only the job process that trains loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ownllm.errors import InvalidInput
from ownllm.models.hub import DEFAULT_MODEL_ID, SHIPPED_MODELS, TUNABLE
from ownllm.store.home import Home
from ownllm.synth.dataset import get_dataset
from ownllm.tune.lineage import file_sha256, run_key
from ownllm.tune.recipe import Recipe, load_recipe, read_recipe_file


@dataclass
class TuneRequest:
    recipe: str = "sft-lora"  # a shipped recipe's name
    recipe_file: Path | None = None  # or the operator's own YAML (CLI only; never from an API caller)
    base_model: str = DEFAULT_MODEL_ID
    dataset: str | None = "latest"  # a synth dataset; or:
    training_file: Path | None = None  # a user JSONL (chat or text records) used for every stage
    overrides: dict[str, Any] | None = None
    suffix: str = "company"
    merge: bool = False
    export_adapter: bool = True  # GGUF LoRA + llama.cpp check, so the model is servable at once


def run_root(home: Home, tenant_id: str) -> Path:
    return home.root / "runs" / tenant_id


def _stage_files(request: TuneRequest, recipe: Recipe, dataset_path: Path | None) -> list[Path]:
    files = []
    for stage in recipe.stages:
        path = request.training_file if request.training_file else dataset_path / f"{stage.method}.jsonl"
        if path is None or not path.exists():
            raise InvalidInput(f"stage {stage.method!r} needs {path}, which does not exist", param="training_file")
        files.append(path)
    return files


def check_grounded_form(dataset_id: str, config: dict[str, Any], base_model: str) -> None:
    """A dataset's grounded records are in one reader's prompt form; tuning another form's base would teach
    it a prompt it is never served with (synth/grounded.py)."""
    shipped = SHIPPED_MODELS.get(base_model)
    if not config.get("grounded") or shipped is None:
        return
    made_for_passages = bool(config.get("grounded_passages"))
    if made_for_passages != shipped.reads_passages:
        form = "whole passages" if made_for_passages else "evidence sentences"
        raise InvalidInput(f"dataset {dataset_id} asks its grounded questions with {form}, the prompt "
                           f"{base_model!r} is not served with; synthesize for it: `ownllm synth <tenant> --set "
                           f"grounded_passages={str(not made_for_passages).lower()}` (or make it the tenant's base)",
                           param="dataset")


@dataclass
class TunePlan:
    """A validated request: everything the run needs, and the parameters its job and lineage record."""

    request: TuneRequest
    recipe: Recipe
    files: list[Path]
    params: dict[str, Any]
    key: str


def plan_tune(home: Home, tenant_id: str, request: TuneRequest) -> TunePlan:
    """Validate the inputs; errors here are the caller's (400s), raised before any job exists."""
    recipe = read_recipe_file(request.recipe_file, request.overrides, request.base_model) if request.recipe_file \
        else load_recipe(request.recipe, request.overrides, request.base_model)
    shipped = SHIPPED_MODELS.get(request.base_model)
    if shipped is None and not (Path(request.base_model) / "config.json").exists():
        raise InvalidInput(f"unknown base model {request.base_model!r}", param="model")
    if shipped is not None and (TUNABLE not in shipped.roles or not shipped.installed):
        tunable = ", ".join(m.id for m in SHIPPED_MODELS.values() if TUNABLE in m.roles and m.installed)
        why = "is not installed here (`make models` installs it)" if TUNABLE in shipped.roles else "cannot be tuned"
        raise InvalidInput(f"{request.base_model!r} {why}; tunable here: {tunable}", param="model")
    dataset = None
    if request.training_file is None:
        dataset = get_dataset(home, tenant_id, request.dataset or "latest")
        check_grounded_form(dataset.id, dataset.config or {}, request.base_model)
    files = _stage_files(request, recipe, Path(dataset.path) if dataset else None)
    params = {
        "recipe": recipe.model_dump(), "recipe_name": recipe.name, "base_model": request.base_model,
        "dataset_id": dataset.id if dataset else None,
        "corpus_version_id": dataset.corpus_version_id if dataset else None,
        "training_files": {home.relative(p): file_sha256(p) for p in files}, "suffix": request.suffix,
        "merge": request.merge, "seed": recipe.training.seed,
    }
    return TunePlan(request, recipe, files, params, resume_key(params))


def resume_key(params: dict[str, Any]) -> str:
    """The key a re-run finds its interrupted job by: every input that decides the weights, but not the recipe's
    description, which is prose; rewording it (an edited recipe, a new release) must not strand a half-done run.
    Nor does a stage's spent rate table (the run trained at the one rate it records), so runs recorded before
    recipes had one are found too."""
    recipe = {name: value for name, value in params["recipe"].items() if name != "description"}
    if isinstance(recipe.get("stages"), list):
        recipe["stages"] = [{k: v for k, v in stage.items() if not (k == "learning_rate_by_base" and not v)}
                            if isinstance(stage, dict) else stage for stage in recipe["stages"]]
    return run_key({**params, "recipe": recipe})
