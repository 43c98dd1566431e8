"""Teaching the model: `ownllm synth`, `tune`, `export`, `eval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import TextColumn
from rich.table import Table

from ownllm.cli.app import app, console, err, home, progress_bar, tenant_id
from ownllm.store.statuses import EventType, JobStatus


def parse_sets(values: list[str] | None) -> dict[str, Any]:
    """`--set training.seq_len=256` → {"training.seq_len": 256} (values parsed as YAML scalars)."""
    overrides = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--set expects key=value, got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


def _show_progress(progress: Any, task: Any) -> Any:
    return lambda d, t, s, i: progress.update(task, completed=d, total=t, stage=s or "", item=i or "")


@app.command()
def synth(
    tenant: str,
    action: Annotated[str, typer.Argument(help="run | show | list")] = "run",
    dataset: Annotated[str, typer.Option(help="for show: latest or a dataset id")] = "latest",
    kind: Annotated[str, typer.Option(help="for show: sft | raft | cpt | eval_heldout | eval_train")] = "sft",
    limit: Annotated[int, typer.Option(help="for show: how many records")] = 5,
    corpus: Annotated[str, typer.Option(help="corpus version to synthesize from")] = "latest",
    teacher: Annotated[bool, typer.Option(help="also ask a teacher model for Q/A pairs")] = False,
    teacher_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL of the teacher")] = None,
    teacher_model: Annotated[str | None, typer.Option(help="the teacher's model name")] = None,
    heldout: Annotated[float, typer.Option(help="fraction of documents held out for evaluation")] = 0.2,
    seed: Annotated[int, typer.Option(help="split and RAFT sampling seed")] = 0,
    max_chunks: Annotated[int | None, typer.Option(help="only the first N chunks (quick trials)")] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="any synth setting, e.g. natural=true "
                                                   "multihop=40 unanswerable=40 entigraph=20 judge_sample=30")]
    = None,
) -> None:
    """Synthesize instruction data from a corpus version (run), list datasets, or show records."""
    from ownllm.synth.config import SynthConfig
    from ownllm.synth.dataset import dataset_records, get_dataset, list_datasets
    from ownllm.synth.run import synthesize

    opened = home()
    owner = tenant_id(opened, tenant)
    if action == "show":
        for record in dataset_records(get_dataset(opened, owner, dataset), kind, limit):
            print(json.dumps(record, ensure_ascii=False))
        return
    if action == "list":
        table = Table("dataset", "corpus version", "sft", "raft", "cpt", "held-out q", "created")
        for d in list_datasets(opened, owner):
            c = d.counts
            table.add_row(d.id, d.corpus_version_id, str(c.get("sft")), str(c.get("raft")), str(c.get("cpt")),
                          str(c.get("eval_heldout")), d.created_at.isoformat(timespec="seconds"))
        console.print(table)
        return
    if action != "run":
        raise typer.BadParameter(f"unknown action {action!r}: use run, show or list")
    try:
        config = SynthConfig(teacher=teacher or bool(teacher_url), teacher_url=teacher_url,
                             teacher_model=teacher_model, heldout_fraction=heldout, seed=seed, max_chunks=max_chunks,
                             **parse_sets(sets))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", param_hint="--set") from exc
    with progress_bar() as progress:
        task = progress.add_task("synth", total=None, stage="synth", item="")
        made = synthesize(opened, owner, config, corpus, on_progress=_show_progress(progress, task))
    c = made.counts
    console.print(f"dataset [bold]{made.id}[/bold]: {c['sft']} SFT, {c['raft']} RAFT, {c['cpt']} CPT records; "
                  f"{c['eval_heldout']} held-out and {c['eval_train']} train-document questions")
    console.print(f"generated {c['generated']}; filters kept {c['filters']['kept']}, removed "
                  f"{c['filters']['removed'] or 'none'}")
    if "judge" in c:
        j = c["judge"]
        console.print(f"judge: {j['kept_good']}/{j['kept_judged']} kept pairs judged right ({j['dropped']} dropped), "
                      f"{j['removed_good']}/{j['removed_judged']} removed pairs judged right")
    console.print(f"held out: {', '.join(made.split['heldout_documents']) or 'none'}")


def _tune_status(opened: Any, owner: str, action: str, job_id: str | None) -> None:
    from ownllm.jobs.tracker import cancel_job, get_job, job_events
    from ownllm.tune.run import JOB_KIND

    if not job_id:
        raise typer.BadParameter(f"{action} needs the run's job id")
    found = cancel_job(opened, job_id, owner, JOB_KIND) if action == "cancel" else get_job(opened, job_id, owner)
    console.print(f"{found.id}: {found.status} ({found.progress_done}/{found.progress_total})")
    for event in job_events(opened, found.id, EventType.STEP)[-5:]:
        console.print(f"  step {event.data.get('step')}: loss {event.data.get('loss')}", highlight=False)
    if found.result.get("fine_tuned_model"):
        console.print(f"model {found.result['fine_tuned_model']}; curve {found.result.get('loss_curve')}")


def _tune_list(opened: Any, owner: str) -> None:
    from ownllm.models.registry import list_models

    table = Table("model", "status", "served as", "lineage")
    for entry in list_models(opened, owner):
        if entry.kind == "tuned":
            served = f"{entry.path.name} + {entry.lora.name}" if entry.lora else entry.path.name
            table.add_row(entry.id, entry.status, served, entry.source)
    console.print(table)


@app.command()
def tune(
    tenant: str,
    action: Annotated[str, typer.Argument(help="run | list | status | cancel")] = "run",
    job_id: Annotated[str | None, typer.Argument(help="for status/cancel: the run's job id")] = None,
    recipe: Annotated[str, typer.Option(help="a shipped recipe's name")] = "sft-lora",
    recipe_file: Annotated[Path | None, typer.Option(help="your own recipe YAML instead")] = None,
    model: Annotated[str | None, typer.Option(help="base model id or local HF folder")] = None,
    dataset: Annotated[str, typer.Option(help="synth dataset id or latest")] = "latest",
    training_file: Annotated[Path | None, typer.Option(help="train on this JSONL instead of a dataset")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a recipe key: training.seq_len=256")]
    = None,
    max_steps: Annotated[int | None, typer.Option(help="cap every stage at N optimizer steps")] = None,
    suffix: Annotated[str, typer.Option(help="goes into the model name ft:<base>:<tenant>:<suffix>:<id>")]
    = "company",
    merge: Annotated[bool, typer.Option(help="also write a merged (adapter folded in) model")] = False,
) -> None:
    """Fine-tune a LoRA adapter on a synth dataset (live loss), list runs, show one, or cancel it."""
    from ownllm.models.roles import role_models
    from ownllm.tune.run import TuneRequest
    from ownllm.tune.run import tune as run_tune

    opened = home()
    owner = tenant_id(opened, tenant)
    if action in ("status", "cancel"):
        _tune_status(opened, owner, action, job_id)
        return
    if action == "list":
        _tune_list(opened, owner)
        return
    if action != "run":
        raise typer.BadParameter(f"unknown action {action!r}: use run, list, status or cancel")
    overrides = parse_sets(set_)
    if max_steps:
        overrides["stages.*.max_steps"] = max_steps
    request = TuneRequest(recipe=recipe, recipe_file=recipe_file, base_model=model or role_models(opened, owner).base,
                          dataset=dataset, training_file=training_file, overrides=overrides, suffix=suffix,
                          merge=merge)
    with progress_bar(TextColumn("loss {task.fields[loss]}")) as progress:
        task = progress.add_task("tune", total=None, stage="prepare", item="", loss="-")

        def show(info: Any) -> None:
            progress.update(task, completed=info.step, total=info.total, stage=f"{info.method}",
                            item=f"{info.tokens_per_s:.0f} tok/s", loss=f"{info.loss:.3f}")

        outcome = run_tune(opened, owner, request, on_step=show)
    if outcome.status != JobStatus.SUCCEEDED:
        console.print(f"run {outcome.job_id}: {outcome.status}")
        raise typer.Exit(1)
    result = outcome.result
    assert result is not None
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    # plain print: paths and model ids must not be wrapped when the output is piped
    print(f"model {outcome.model_id} (job {outcome.job_id}{resumed})")
    print(f"{len(result.history)} steps, final loss {result.final_loss:.4f}; "
          f"loss curve {outcome.run_dir / 'loss_curve.png'}")


@app.command()
def export(
    model: str,
    format_: Annotated[str, typer.Option("--format", help="gguf")] = "gguf",
    quant: Annotated[str, typer.Option(help="f16 | q8_0 | q4_k_m")] = "q8_0",
    adapter: Annotated[bool, typer.Option(help="also (re)write the GGUF LoRA adapter")] = False,
) -> None:
    """Export a tuned model to GGUF (merged weights; optionally the LoRA adapter too)."""
    from ownllm.tune.export import export_adapter, export_model

    if format_ != "gguf":
        err.print(f"[red]error:[/red] unknown format {format_!r}; only gguf is supported")
        raise typer.Exit(1)
    opened = home()
    path = export_model(opened, model, quant)
    console.print(f"{model} → {path} ({path.stat().st_size / 1e6:.0f} MB, {quant})")
    if adapter:
        lora = export_adapter(opened, model)
        console.print(f"adapter → {lora} ({lora.stat().st_size / 1e6:.1f} MB)")


def print_eval_table(report: dict) -> None:
    """The four-system table: one row per question set and system."""
    table = Table("questions", "system", "n", "EM", "F1 [95% CI]", "cites gold doc", "not found", "in language",
                  title=f"evaluation {report['id']}")
    for name in report["sets"]:
        for system in report["systems"]:
            cell = report["summary"][name].get(system)
            if not cell:
                continue
            cite = cell["citation_accuracy"]
            found = cell["not_found_rate"]
            table.add_row(name, system, str(cell["n"]), f"{cell['em']['mean']:.3f}",
                          f"{cell['f1']['mean']:.3f} [{cell['f1']['ci'][0]:.2f}, {cell['f1']['ci'][1]:.2f}]",
                          "" if cite is None else f"{cite:.2f}", "" if found is None else f"{found:.2f}",
                          f"{cell['answer_language']['mean']:.2f}" if "answer_language" in cell else "")
    wide = console if console.is_terminal else Console(width=120)  # one line per row even when piped
    wide.print(table)
    if report.get("reader"):
        print(f"reader: {report['reader']}")
    if "unanswerable" in report["summary"]:
        print("unanswerable questions: F1 = share declined (a decline is right, an answer is a hallucination)")
    for model, general in report["general"].items():
        print(f"general-text perplexity {model}: {general['perplexity']:.2f}")
    for gate in report["gate"]:
        verdict = "[green]promoted[/]" if gate["promoted"] else "[yellow]not promoted[/]"
        console.print(f"{gate['model']}: {verdict} — {'; '.join(gate['reasons'])}", highlight=False)


@app.command("eval")
def eval_(
    tenant: str,
    model: Annotated[list[str] | None, typer.Option(help="models to compare (default: base + newest tuned, and "
                                                    "the reader with RAG)")]
    = None,
    dataset: Annotated[str, typer.Option(help="synth dataset whose held-out/train questions to ask")] = "latest",
    questions: Annotated[Path | None, typer.Option(help="extra JSONL: question, answer (or \"unanswerable\": "
                                                   "true), optional source and lang")] = None,
    split: Annotated[bool, typer.Option("--split", help="place the file's questions in the held-out or training "
                                        "set by their source document, instead of the synthesized ones")] = False,
    limit: Annotated[int, typer.Option(help="questions per set")] = 40,
    as_json: Annotated[bool, typer.Option("--json", help="print the report JSON")] = False,
) -> None:
    """Base vs base+RAG vs tuned vs tuned+RAG on held-out and training-document questions; promotion gate."""
    from ownllm.evaluate.run import EvalRequest, evaluate

    opened = home()
    owner = tenant_id(opened, tenant)
    request = EvalRequest(models=model, dataset=dataset, questions_file=questions, limit=limit,
                          split_questions_file=split)
    with progress_bar() as progress:
        task = progress.add_task("eval", total=None, stage="eval", item="")
        outcome = evaluate(opened, owner, request, on_progress=_show_progress(progress, task))
    if as_json:
        print(json.dumps({k: v for k, v in outcome.report.items() if k != "rows"}, ensure_ascii=False))
        return
    print_eval_table(outcome.report)
    print(f"report: {outcome.report_path}")
