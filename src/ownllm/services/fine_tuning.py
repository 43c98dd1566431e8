"""Fine-tuning jobs for any transport: validate everything up front (a bad request is a 400, not a
failed job later), then run synth (when given a corpus version) and tuning in a job process."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError

from ownllm.corpus.versions import get_version
from ownllm.errors import InvalidInput
from ownllm.inference.pool import shared_pool
from ownllm.jobs.tracker import JobTracker
from ownllm.models.hub import SHIPPED_MODELS, TUNABLE
from ownllm.outbound import check_outbound_url
from ownllm.services.datafiles import own_file
from ownllm.services.runtime import Runtime
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind, JobStatus
from ownllm.store.tenant_settings import describe
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import get_dataset
from ownllm.synth.run import synthesize
from ownllm.tune.plan import TuneRequest, plan_tune
from ownllm.tune.recipe import load_recipe

JOB = "ownllm.services.fine_tuning:fine_tuning_job"
METHOD_RECIPES = {"supervised": "sft-lora", "raft": "raft-lora", "continued_pretraining": "cpt-lora"}


@dataclass
class FineTuningSpec:
    """A fine-tuning request as OpenAI's API shapes it, plus ownllm's extensions."""

    model: str
    training_file: str | None = None  # a synth dataset id (ds_…) or an uploaded fine-tune JSONL (file-…)
    corpus_version: str | None = None  # or: synthesize from this version first
    method: str = "supervised"
    n_epochs: float | None = None
    learning_rate_multiplier: float | None = None
    batch_size: int | None = None
    max_steps: int | None = None
    suffix: str | None = None
    seed: int | None = None
    recipe: str | None = None
    recipe_overrides: dict[str, Any] = field(default_factory=dict)
    synth: dict[str, Any] = field(default_factory=dict)


def _overrides(spec: FineTuningSpec, base_lr: list[float]) -> dict[str, Any]:
    overrides = dict(spec.recipe_overrides)
    if spec.n_epochs is not None:
        overrides["stages.*.epochs"] = spec.n_epochs
    if spec.max_steps is not None:
        overrides["stages.*.max_steps"] = spec.max_steps
    if spec.batch_size is not None:
        overrides["training.batch_size"] = spec.batch_size
    if spec.learning_rate_multiplier is not None:
        for index, lr in enumerate(base_lr):
            overrides[f"stages.{index}.learning_rate"] = lr * spec.learning_rate_multiplier
    if spec.seed is not None:
        overrides["training.seed"] = spec.seed
    return overrides


def _bounded(overrides: dict[str, Any], recipe_name: str, base_model: str, cap: int) -> dict[str, Any]:
    """Every stage of an API job ends by `cap` steps (OWNLLM_MAX_TUNE_STEPS), whatever else it asks."""
    recipe = load_recipe(recipe_name, overrides, base_model)
    for index, stage in enumerate(recipe.stages):
        if stage.max_steps is not None and stage.max_steps > cap:
            raise InvalidInput(f"max_steps {stage.max_steps} is over this server's limit of {cap} steps per stage",
                               param="hyperparameters.max_steps")
        if stage.max_steps is None:
            overrides = {**overrides, f"stages.{index}.max_steps": cap}
    return overrides


def _synth_config(home: Home, options: dict[str, Any]) -> SynthConfig:
    try:
        config = SynthConfig(**options)
    except ValidationError as exc:
        raise InvalidInput(f"synth options: {describe(exc)}", param="synth") from exc
    if config.teacher_url:
        check_outbound_url(config.teacher_url, home.settings, param="synth.teacher_url")
    return config


def create_fine_tuning_job(runtime: Runtime, tenant_id: str, spec: FineTuningSpec) -> str:
    home = runtime.home
    tunable = [m.id for m in SHIPPED_MODELS.values() if TUNABLE in m.roles and m.installed]
    if spec.model not in tunable:
        raise InvalidInput(f"model {spec.model!r} cannot be fine-tuned here; base models: {', '.join(tunable)}",
                           param="model")
    recipe_name = spec.recipe or METHOD_RECIPES.get(spec.method)
    if recipe_name is None:
        raise InvalidInput(f"unknown method type {spec.method!r}; use {', '.join(METHOD_RECIPES)}", param="method")
    base_recipe = load_recipe(recipe_name, base_model=spec.model)  # a multiplier scales the rate for this base
    overrides = _bounded(_overrides(spec, [s.learning_rate for s in base_recipe.stages]), recipe_name, spec.model,
                         home.settings.max_tune_steps)
    recipe = load_recipe(recipe_name, overrides, spec.model)  # a bad override is a 400 now, not a failed job later
    synth = _synth_config(home, spec.synth)
    if synth.replay_model is None:  # replay the voice of the model being tuned
        synth = synth.model_copy(update={"replay_model": spec.model})
    dataset_id = file_id = None
    if spec.training_file and spec.training_file.startswith("file-"):
        file_id = own_file(home, tenant_id, spec.training_file, "fine-tune").id
    elif spec.training_file:
        dataset_id = get_dataset(home, tenant_id, spec.training_file).id
    elif spec.corpus_version:
        get_version(home, tenant_id, spec.corpus_version)
    else:
        raise InvalidInput("give training_file (an uploaded fine-tune file or a dataset id from `ownllm synth`) or "
                           "corpus_version", param="training_file")
    request = _tune_request(home, tenant_id, recipe_name, spec.model, dataset_id, file_id, overrides,
                            spec.suffix or "company")
    if dataset_id is not None or file_id is not None:
        plan_tune(home, tenant_id, request)  # the files exist and fit the recipe
    params = {"base_model": spec.model, "training_file": dataset_id or file_id, "recipe_name": recipe.name,
              "method": spec.method,
              "hyperparameters": {k: v for k, v in asdict(spec).items() if v is not None and k in
                                  ("n_epochs", "learning_rate_multiplier", "batch_size", "max_steps")},
              "seed": recipe.training.seed, "suffix": request.suffix}
    runner = runtime.require_runner()
    tracker = JobTracker.create(home, JobKind.FINE_TUNE, tenant_id, params=params)
    tracker.set_status(JobStatus.VALIDATING_FILES)
    runner_params = {"recipe": recipe_name, "model": spec.model, "dataset": dataset_id, "file_id": file_id,
                     "overrides": overrides, "suffix": request.suffix, "corpus_version": spec.corpus_version,
                     "synth": synth.model_dump()}
    return runner.submit(JobKind.FINE_TUNE, tenant_id, JOB, runner_params, tracker=tracker)


def _tune_request(home: Home, tenant_id: str, recipe: str, model: str, dataset: str | None, file_id: str | None,
                  overrides: dict[str, Any], suffix: str) -> TuneRequest:
    """A tuning request on a synth dataset, or on an uploaded file (every stage trains on that file)."""
    training_file = home.blobs.path_for(own_file(home, tenant_id, file_id).sha256) if file_id else None
    return TuneRequest(recipe=recipe, base_model=model, dataset=dataset if training_file is None else None,
                       training_file=training_file, overrides=overrides, suffix=suffix)


def fine_tuning_job(home: Home, tenant_id: str, tracker: JobTracker, *, recipe: str, model: str, dataset: str | None,
                    overrides: dict[str, Any], suffix: str, corpus_version: str | None,
                    synth: dict[str, Any], file_id: str | None = None) -> None:
    """Job body: synthesize first when asked to tune on a corpus version, then tune."""
    if dataset is None and file_id is None:
        tracker.event("synthesizing a dataset from the corpus version", corpus=corpus_version)
        pool = shared_pool(home.settings.engine_memory_mb)
        made = synthesize(home, tenant_id, SynthConfig(**synth), corpus_version or "latest", pool=pool,
                          tracker=JobTracker.create(home, JobKind.SYNTH, tenant_id, params={"for_job": tracker.job_id}))
        dataset = made.id
    from ownllm.tune.run import tune_into  # PyTorch loads here, in the job process, not in the API server

    request = _tune_request(home, tenant_id, recipe, model, dataset, file_id, overrides, suffix)
    tune_into(home, tenant_id, plan_tune(home, tenant_id, request), tracker)
