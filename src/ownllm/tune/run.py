"""`ownllm tune`: one tuning run as a job with the OpenAI fine-tuning lifecycle.

validating_files → queued → running → succeeded | failed | cancelled. The run folder holds
checkpoints, the final adapter, the loss curve and `run.json` (lineage). Re-running the same
command after a kill finds the interrupted job by its inputs and resumes from its last
checkpoint; the result is the same adapter an uninterrupted run makes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from sqlalchemy import select

from ownllm.errors import InvalidInput, OwnLLMError
from ownllm.jobs.tracker import JobTracker, mark_interrupted
from ownllm.models.hub import DEFAULT_MODEL_ID, SHIPPED_MODELS
from ownllm.store.catalog import Job, TunedModel
from ownllm.store.home import Home
from ownllm.store.tenants import get_tenant
from ownllm.synth.dataset import get_dataset, read_jsonl
from ownllm.tune.data import Block, Example, pack, record_example, unpacked
from ownllm.tune.lineage import code_version, file_sha256, run_key
from ownllm.tune.recipe import Recipe, load_recipe
from ownllm.tune.train import Cancelled, LoraTrainer, StepInfo, TrainResult, add_lora, steps_in_stage

JOB_KIND = "fine_tune"


@dataclass
class TuneRequest:
    recipe: str = "sft-lora"
    base_model: str = DEFAULT_MODEL_ID
    dataset: str | None = "latest"  # a synth dataset; or:
    training_file: Path | None = None  # a user JSONL (chat or text records) used for every stage
    overrides: dict[str, Any] | None = None
    suffix: str = "company"
    merge: bool = False
    export_adapter: bool = True  # GGUF LoRA + llama.cpp check, so the model is servable at once


@dataclass
class TuneOutcome:
    job_id: str
    status: str
    model_id: str | None
    run_dir: Path
    result: TrainResult | None


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


def _examples(tokenizer: Any, path: Path) -> list[Example]:
    records = read_jsonl(path)
    if not records:
        raise InvalidInput(f"{path.name}: no training records", param="training_file")
    return [record_example(tokenizer, record, f"{path.name} record {i + 1}") for i, record in enumerate(records)]


def _blocks(examples: list[Example], recipe: Recipe) -> list[Block]:
    seq = recipe.training.seq_len
    blocks = pack(examples, seq) if recipe.training.packing else unpacked(examples, seq)
    if not blocks:
        raise InvalidInput("after tokenizing, no record has a trainable token", param="training_file")
    return blocks


def _find_resumable(home: Home, tenant_id: str, key: str) -> str | None:
    mark_interrupted(home, tenant_id, JOB_KIND)
    with home.catalog.session() as session:
        jobs = session.scalars(select(Job).where(Job.tenant_id == tenant_id, Job.kind == JOB_KIND,
                                                 Job.status == "failed").order_by(Job.created_at.desc()))
        for job in jobs:
            if job.params.get("run_key") == key and (job.error or "").startswith("interrupted"):
                return job.id
    return None


def _model_name(base: str, tenant: str, suffix: str, job_id: str) -> str:
    clean = re.sub(r"[^a-zA-Z0-9_-]+", "-", suffix).strip("-")[:40] or "company"
    return f"ft:{base}:{tenant}:{clean}:{job_id.removeprefix('job_')[:8]}"


def tune(home: Home, tenant_id: str, request: TuneRequest, on_step: Callable[[StepInfo], None] | None = None,
         tracker: JobTracker | None = None) -> TuneOutcome:
    """Validate, train, record. Errors in the inputs raise before a job exists; later ones fail the job."""
    recipe = load_recipe(request.recipe, request.overrides)
    if request.base_model not in SHIPPED_MODELS and not (Path(request.base_model) / "config.json").exists():
        raise InvalidInput(f"unknown base model {request.base_model!r}", param="model")
    dataset = None
    if request.training_file is None:
        dataset = get_dataset(home, tenant_id, request.dataset or "latest")
    files = _stage_files(request, recipe, Path(dataset.path) if dataset else None)
    params = {
        "recipe": recipe.model_dump(), "recipe_name": recipe.name, "base_model": request.base_model,
        "dataset_id": dataset.id if dataset else None,
        "corpus_version_id": dataset.corpus_version_id if dataset else None,
        "training_files": {str(p): file_sha256(p) for p in files}, "suffix": request.suffix, "merge": request.merge,
        "seed": recipe.training.seed,
    }
    key = run_key(params)
    resumable = None if tracker is not None else _find_resumable(home, tenant_id, key)
    if tracker is None:
        tracker = (JobTracker(home, resumable) if resumable
                   else JobTracker.create(home, JOB_KIND, tenant_id, params={**params, "run_key": key}))
    else:
        tracker.update_params(**params, run_key=key)
    run_dir = run_root(home, tenant_id) / tracker.job_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if resumable:
        tracker.event("resuming an interrupted run from its last checkpoint")
    try:
        return _run(home, tenant_id, request, recipe, files, params, tracker, run_dir, on_step)
    except Cancelled:
        tracker.event("cancelled between steps; the last checkpoint is kept", level="warning")
        return TuneOutcome(tracker.job_id, "cancelled", None, run_dir, None)
    except OwnLLMError as exc:
        tracker.fail(exc.message)
        raise
    except Exception as exc:
        tracker.fail(f"{type(exc).__name__}: {exc}")
        raise


def _run(home: Home, tenant_id: str, request: TuneRequest, recipe: Recipe, files: list[Path],
         params: dict[str, Any], tracker: JobTracker, run_dir: Path,
         on_step: Callable[[StepInfo], None] | None) -> TuneOutcome:
    from ownllm.tune.base import load_base
    from ownllm.tune.curve import draw_loss_curve

    tracker.set_status("validating_files")
    dtype = torch.bfloat16 if recipe.training.bf16 else torch.float32
    base = load_base(request.base_model, home.settings.model_cache, dtype)
    stage_blocks = [_blocks(_examples(base.tokenizer, path), recipe) for path in files]
    tracker.event("files validated", blocks=[len(b) for b in stage_blocks],
                  tokens=[sum(len(x.input_ids) for x in b) for b in stage_blocks])
    tracker.set_status("queued")
    totals = [steps_in_stage(len(b), recipe, i) for i, b in enumerate(stage_blocks)]
    tracker.start(total=sum(totals))
    model = add_lora(base.model, recipe)
    pad_id = base.tokenizer.pad_token_id if base.tokenizer.pad_token_id is not None else base.tokenizer.eos_token_id

    def report(info: StepInfo) -> None:
        done = sum(totals[: info.stage]) + info.step
        tracker.progress(done, sum(totals), f"stage {info.stage + 1} {info.method}", f"step {info.step}/{info.total}")
        tracker.event("step", step=info.global_step, loss=round(info.loss, 5), lr=info.lr,
                      tokens_per_s=round(info.tokens_per_s, 1))
        if on_step is not None:
            on_step(info)

    def checkpointed(path: Path, step: int) -> None:
        tracker.event("checkpoint saved", step=step, path=str(path))

    trainer = LoraTrainer(model, recipe, run_dir, pad_id, on_step=report, should_stop=tracker.cancelled,
                          on_checkpoint=checkpointed)
    result = trainer.train(stage_blocks)
    adapter_dir = run_dir / "adapter"
    model.save_pretrained(adapter_dir)
    base.tokenizer.save_pretrained(adapter_dir)
    curve = draw_loss_curve(result.history, run_dir / "loss_curve.png", f"{recipe.name} on {request.base_model}")
    tenant_name = get_tenant(home, tenant_id).name
    model_id = _model_name(base.id, tenant_name, request.suffix, tracker.job_id)
    merged_dir = None
    if request.merge:  # into the float32 weights: a bf16 training copy would round the merged model
        from ownllm.tune.base import float32_weights_folder
        from ownllm.tune.merge import merge_adapter_dir

        merged_dir = merge_adapter_dir(float32_weights_folder(home.settings.model_cache, request.base_model),
                                       adapter_dir, run_dir / "merged")
    lineage = {
        **params, "base_model_source": base.source, "code_version": code_version(), "job_id": tracker.job_id,
        "steps": len(result.history), "final_loss": result.final_loss, "resumed_from_step": result.resumed_from,
    }
    (run_dir / "run.json").write_text(json.dumps({"model": model_id, "lineage": lineage, "history": result.history},
                                                 indent=2, ensure_ascii=False), encoding="utf-8")
    with home.catalog.session() as session:
        session.add(TunedModel(id=model_id, tenant_id=tenant_id, base_model=request.base_model,
                               job_id=tracker.job_id, dataset_id=params["dataset_id"],
                               corpus_version_id=params["corpus_version_id"], adapter_path=str(adapter_dir),
                               merged_path=str(merged_dir) if merged_dir else None, lineage=lineage))
    adapter_gguf = None
    if request.export_adapter and request.base_model in SHIPPED_MODELS:
        from ownllm.tune.export import export_adapter

        adapter_gguf = export_adapter(home, model_id)  # servable at once: base GGUF + this LoRA
        tracker.event("adapter exported to GGUF and checked on llama.cpp", path=str(adapter_gguf))
    tracker.succeed({"fine_tuned_model": model_id, "adapter_gguf": str(adapter_gguf) if adapter_gguf else None,
                     "adapter": str(adapter_dir), "loss_curve": str(curve),
                     "final_loss": result.final_loss, "trained_tokens": result.trained_tokens,
                     "merged": str(merged_dir) if merged_dir else None})
    return TuneOutcome(tracker.job_id, "succeeded", model_id, run_dir, result)
