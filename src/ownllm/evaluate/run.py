"""`ownllm eval`: ask every system the same questions, score, report, and apply the promotion gate."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ownllm.errors import InvalidInput
from ownllm.evaluate.gate import PPL_TOLERANCE, GateDecision, apply_gate, decide
from ownllm.evaluate.general import generic_answers, perplexity
from ownllm.evaluate.metrics import best_over_golds, bootstrap_ci, exact_match, f1_score
from ownllm.evaluate.questions import Question, from_dataset, from_jsonl, sample_questions, split_by_documents
from ownllm.evaluate.report import write_report
from ownllm.evaluate.systems import READER_SYSTEM, System, ask_system, in_language, questions_for, systems_for
from ownllm.inference.pool import EnginePool, shared_pool
from ownllm.jobs.runner import run_inline
from ownllm.jobs.tracker import JobTracker, ProgressCallback
from ownllm.models.registry import ModelEntry, list_models, resolve_model
from ownllm.models.roles import role_models
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind
from ownllm.store.tenants import get_tenant
from ownllm.synth.dataset import get_dataset

JOB_KIND = JobKind.EVAL


@dataclass
class EvalRequest:
    models: list[str] | None = None  # default: the tenant's base, its newest tuned model and its reader
    dataset: str | None = "latest"
    questions_file: Path | None = None
    # with a dataset: the file's sourced questions replace the synthesized ones, placed in the held-out or
    # training set by the dataset's held-out documents (a company's own natural questions)
    split_questions_file: bool = False
    questions: list[Question] = field(default_factory=list)  # user questions given inline (the API)
    limit: int | None = 40  # per question set
    set_limits: dict[str, int | None] = field(default_factory=dict)  # per named set, instead of `limit`
    seed: int = 0
    ppl_tolerance: float = PPL_TOLERANCE
    apply_gate: bool = True


@dataclass
class EvalOutcome:
    job_id: str
    report_path: Path
    report: dict[str, Any] = field(default_factory=dict)


def eval_root(home: Home, tenant_id: str) -> Path:
    return home.root / "evals" / tenant_id


def eval_models(home: Home, tenant_id: str, ids: list[str] | None) -> tuple[list[ModelEntry], ModelEntry | None]:
    """(models asked closed-book and with RAG, the reader asked with RAG only when it is another model)."""
    if ids:
        return [resolve_model(home, tenant_id, model_id) for model_id in ids], None
    roles = role_models(home, tenant_id)
    available = list_models(home, tenant_id)
    base = [m for m in available if m.id == roles.base]
    tuned = [m for m in available if m.kind == "tuned" and m.id.startswith(f"ft:{roles.base}:")]
    chosen = base + tuned[-1:]
    reader = None if roles.reader in {m.id for m in chosen} else resolve_model(home, tenant_id, roles.reader)
    return chosen, reader


def eval_questions(home: Home, tenant_id: str, request: EvalRequest) -> tuple[list[Question], Any]:
    dataset = None
    questions: list[Question] = []
    if request.dataset:
        dataset = get_dataset(home, tenant_id, request.dataset)
    split = dataset is not None and request.split_questions_file
    if dataset is not None and not (split and request.questions_file):
        questions += from_dataset(dataset, "heldout", request.limit, request.seed)
        questions += from_dataset(dataset, "train", request.limit, request.seed)
    if request.questions_file:
        own = from_jsonl(request.questions_file, "user")
        if split:
            own = split_by_documents(own, set(dataset.split.get("heldout_documents", [])))
        for name in ("heldout", "train", "unanswerable", "user") if split else ("user", "unanswerable"):
            questions += sample_questions([q for q in own if q.set == name],
                                          request.set_limits.get(name, request.limit), request.seed)
    questions += sample_questions(request.questions, request.limit, request.seed)
    if not questions:
        raise InvalidInput("no questions to ask: synthesize a dataset or pass a question file", param="questions")
    return questions, dataset


def _mean_ci(values: list[float]) -> dict[str, Any]:
    return {"mean": sum(values) / len(values), "ci": list(bootstrap_ci(values))}


def _cell(rows: list[dict], rag: bool) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "n": len(rows),
        "em": _mean_ci([r["em"] for r in rows]),
        "f1": _mean_ci([r["f1"] for r in rows]),
        "citation_accuracy": None, "not_found_rate": None,
        "answer_language": _mean_ci([float(r["language_ok"]) for r in rows]),
    }
    if rows and rows[0]["set"] == "unanswerable":  # scored as declines (see _score): F1 is the share declined
        cell["declined"] = cell["f1"]
    if rag:
        judged = [r for r in rows if r["source"] and not r["not_found"]]
        cell["citation_accuracy"] = (sum(r["citation_ok"] for r in judged) / len(judged)) if judged else None
        cell["not_found_rate"] = sum(r["not_found"] for r in rows) / len(rows)
    return cell


def evaluate_into(home: Home, pool: EnginePool, tenant_id: str, request: EvalRequest,
                  tracker: JobTracker) -> EvalOutcome:
    """One evaluation job: ask, score, report, then (separately) apply the gate."""
    models, reader = eval_models(home, tenant_id, request.models)
    questions, dataset = eval_questions(home, tenant_id, request)
    systems = systems_for(models, reader)
    asked = {system.name: questions_for(system, questions) for system in systems}
    total = sum(len(items) for items in asked.values())
    tracker.start(total=total)
    rows: list[dict[str, Any]] = []
    done = 0
    for system in systems:
        tracker.check_cancelled()
        for question in asked[system.name]:
            tracker.progress(done, total, system.name, question.question[:80])
            reply = ask_system(home, pool, tenant_id, system, question.question)
            rows.append(_score(system, question, reply))
            done += 1
    tracker.progress(done, total, "general ability", None)
    general = {model.id: {"perplexity": perplexity(pool, model),
                          "answers": generic_answers(home, pool, tenant_id, model)} for model in models}
    report, decisions = _report(home, tenant_id, tracker.job_id, systems, questions, rows, dataset, general, models,
                                request)
    if request.apply_gate:
        apply_gate(home, decisions)
    path = write_report(eval_root(home, tenant_id) / tracker.job_id, report)
    tracker.succeed({"report": home.relative(path), "summary": report["summary"], "gate": report["gate"]})
    return EvalOutcome(tracker.job_id, path, report)


def evaluate(home: Home, tenant_id: str, request: EvalRequest | None = None, tracker: JobTracker | None = None,
             on_progress: ProgressCallback | None = None, pool: EnginePool | None = None) -> EvalOutcome:
    """Evaluate in this process as one job (the CLI, tests)."""
    request = request or EvalRequest()
    models, _ = eval_models(home, tenant_id, request.models)  # unknown model or no questions: an error, no job
    eval_questions(home, tenant_id, request)
    pool = pool or shared_pool(home.settings.engine_memory_mb)
    return run_inline(home, JOB_KIND, tenant_id, lambda t: evaluate_into(home, pool, tenant_id, request, t),
                      params={"models": [m.id for m in models], "dataset": request.dataset}, tracker=tracker,
                      on_progress=on_progress)


def _score(system: System, question: Question, reply: Any) -> dict[str, Any]:
    cited = reply.cited_sources[0] if reply.cited_sources else None
    if question.answers:
        em = best_over_golds(exact_match, reply.answer, question.answers, question.lang)
        f1 = best_over_golds(f1_score, reply.answer, question.answers, question.lang)
    else:  # unanswerable: a decline is the right answer, anything else a hallucination
        em = f1 = float(reply.not_found)
    return {
        "system": system.name, "set": question.set, "lang": question.lang, "question": question.question,
        "gold": question.answers[0] if question.answers else None, "answer": reply.answer, "source": question.source,
        "cited": cited, "em": em, "f1": f1, "citation_ok": bool(question.source and cited == question.source),
        "not_found": reply.not_found, "language_ok": in_language(reply.answer, question.lang),
    }


def _report(home: Home, tenant_id: str, job_id: str, systems: list[System], questions: list[Question],
            rows: list[dict], dataset: Any, general: dict, models: list[ModelEntry],
            request: EvalRequest) -> tuple[dict[str, Any], list[GateDecision]]:
    names = [s.name for s in systems]
    rag = {s.name: s.rag for s in systems}
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    by_lang: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row["set"]][row["system"]].append(row)
        by_lang[row["lang"]][row["system"]].append(row)
    summary = {name: {s: _cell(r, rag[s]) for s, r in per.items()} for name, per in grouped.items()}
    languages = {lang: {s: _cell(r, rag[s]) for s, r in per.items()} for lang, per in by_lang.items()}
    gate = []
    decisions: list[GateDecision] = []
    base = next((m for m in models if m.kind == "base"), None)
    rag_system = {s.model.id: s.name for s in systems if s.rag}
    heldout = grouped.get("heldout", {})
    for model in (m for m in models if m.kind == "tuned"):
        tuned_f1 = [r["f1"] for r in heldout.get(rag_system[model.id], [])]
        base_f1 = [r["f1"] for r in heldout.get(rag_system[base.id], [])] if base else [0.0] * len(tuned_f1)
        decision = decide(model.id, tuned_f1, base_f1,
                          general[model.id]["perplexity"], general[base.id]["perplexity"] if base else None,
                          request.ppl_tolerance)
        gate.append(decision.as_dict())
        if tuned_f1:
            decisions.append(decision)
    samples = []
    for question in questions[:: max(1, len(questions) // 12)][:12]:
        answers = {r["system"]: r["answer"] for r in rows if r["question"] == question.question and
                   r["set"] == question.set}
        gold = question.answers[0] if question.answers else None
        samples.append({"set": question.set, "question": question.question, "gold": gold, "answers": answers})
    return {
        "id": job_id, "tenant": get_tenant(home, tenant_id).name, "systems": names,
        "sets": [s for s in ("heldout", "train", "user", "unanswerable") if s in summary],
        "models": [{"id": m.id, "kind": m.kind, "lora": home.relative(m.lora) if m.lora else None} for m in models],
        "reader": next((s.model.id for s in systems if s.name == READER_SYSTEM), None),
        "dataset_id": dataset.id if dataset is not None else None,
        "corpus_version_id": dataset.corpus_version_id if dataset is not None else None,
        "summary": summary, "by_language": languages, "general": general, "gate": gate, "samples": samples,
        "rows": rows,
    }, decisions

