"""`ownllm synth`: generate records from one corpus version, then write them as a dataset."""

from __future__ import annotations

from ownllm.errors import InvalidInput
from ownllm.inference.pool import EnginePool
from ownllm.jobs.runner import run_inline
from ownllm.jobs.tracker import JobTracker, ProgressCallback
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.models.registry import resolve_model, serving_spec
from ownllm.models.roles import role_models
from ownllm.store.catalog import Dataset
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import write_dataset
from ownllm.synth.generate import generate_records
from ownllm.synth.source import load_corpus
from ownllm.synth.teacher import HttpTeacher, LocalTeacher, Teacher


def base_model_teacher(home: Home, pool: EnginePool, model_id: str, max_tokens: int = 384) -> Teacher:
    """A shipped base model in-process, through the engine pool `ownllm serve` uses."""
    if model_id not in SHIPPED_MODELS:
        raise InvalidInput(f"teacher_model {model_id!r} is not a shipped model ({', '.join(SHIPPED_MODELS)})",
                           param="teacher_model")
    entry = resolve_model(home, None, model_id)
    return LocalTeacher(pool.handle(serving_spec(entry, home.settings)), model_id, max_tokens)


def make_teacher(home: Home, pool: EnginePool, tenant_id: str, config: SynthConfig) -> Teacher:
    """An allowed remote endpoint, or in-process the model named, else the tenant's teacher (`ownllm models`)."""
    if config.teacher_url:
        return HttpTeacher(config.teacher_url, config.teacher_model or "default", home.settings,
                           config.teacher_api_key)
    return base_model_teacher(home, pool, config.teacher_model or role_models(home, tenant_id).teacher)


def synthesize_into(home: Home, pool: EnginePool, tenant_id: str, config: SynthConfig, corpus: str | int,
                    tracker: JobTracker, teacher: Teacher | None = None) -> Dataset:
    """One synth job; the caller owns the job record and its failure policy."""
    source = load_corpus(home, tenant_id, corpus)
    base = role_models(home, tenant_id).base
    if config.grounded_passages is None:  # grounded records in the prompt the tuned base will be served with
        shipped = SHIPPED_MODELS.get(base)
        config = config.model_copy(update={"grounded_passages": shipped is not None and shipped.reads_passages})
    if config.needs_teacher and teacher is None:
        teacher = make_teacher(home, pool, tenant_id, config)
    # replay is the tuned base's own voice (self-distillation), so it comes from the base, not the teacher
    replay_teacher = base_model_teacher(home, pool, config.replay_model or base,
                                        max_tokens=96) if config.replay else None
    output = generate_records(source, config, tracker, teacher, replay_teacher)
    config_info = config.model_dump(exclude={"teacher_api_key"})
    if teacher is not None:
        config_info["teacher_name"] = teacher.name
    dataset = write_dataset(home, tenant_id, source, output, config_info, tracker.job_id)
    tracker.event("dataset written", dataset_id=dataset.id,
                  **{k: v for k, v in dataset.counts.items() if isinstance(v, int)})
    tracker.succeed({"dataset_id": dataset.id, "counts": dataset.counts})
    return dataset


def synthesize(home: Home, tenant_id: str, config: SynthConfig | None = None, corpus: str | int = "latest",
               tracker: JobTracker | None = None, teacher: Teacher | None = None,
               on_progress: ProgressCallback | None = None, pool: EnginePool | None = None) -> Dataset:
    """Synthesize in this process as one job (the CLI, tests)."""
    from ownllm.inference.pool import shared_pool

    config = config or SynthConfig()
    pool = pool or shared_pool(home.settings.engine_memory_mb)
    return run_inline(home, JobKind.SYNTH, tenant_id,
                      lambda t: synthesize_into(home, pool, tenant_id, config, corpus, t, teacher),
                      params=config.model_dump(exclude={"teacher_api_key"}), tracker=tracker,
                      on_progress=on_progress)
