"""The data side: `ownllm ingest`, `corpus`, `search`, `ask`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ownllm.cli.app import app, console, home, progress_bar, tenant_id
from ownllm.store.statuses import REJECTED_FILE_STATUSES


@app.command()
def ingest(tenant: str, paths: list[Path]) -> None:
    """Ingest files and folders into a tenant's data space, making a new corpus version if anything changed."""
    from ownllm.services.ingestion import ingest_paths_and_index

    opened = home()
    owner = tenant_id(opened, tenant)
    with progress_bar() as progress:
        task = progress.add_task("ingest", total=None, stage="ingest", item="")

        def show(done: int, total: int, stage: str | None, item: str | None) -> None:
            progress.update(task, completed=done, total=total, stage=stage or "", item=item or "")

        report = ingest_paths_and_index(opened, owner, paths, on_progress=show)
    table = Table("file", "type", "status", "chunks", "note")
    for outcome in report.outcomes:
        style = {"failed": "red", "unsupported": "yellow"}.get(outcome.status, "")
        note = "; ".join(filter(None, [outcome.reason, *outcome.flags]))
        table.add_row(outcome.name, outcome.detected_type, f"[{style}]{outcome.status}[/]" if style else
                      outcome.status, str(outcome.n_chunks or ""), note)
    console.print(table)
    counts = report.as_dict()["counts"]
    version = f"corpus version {report.version_number}" if report.version_number else "no new corpus version"
    removed = f"{len(report.removed)} removed, " if report.removed else ""
    console.print(
        f"{counts['parsed']} parsed, {counts['unchanged']} unchanged, {counts['duplicate']} duplicate, "
        f"{counts['expanded']} expanded, {counts['unsupported']} unsupported, {counts['failed']} failed; "
        f"{removed}{report.new_chunks} new chunks; {version}; {report.seconds:.1f} s (job {report.job_id})"
    )


def _show_version(opened, owner: str, tenant: str, version: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from ownllm.corpus.versions import summarize_version

    summary = summarize_version(opened, owner, version)
    if as_json:
        print(json.dumps({"id": summary.id, "number": summary.number, "n_chunks": summary.n_chunks,
                          "documents": [d.__dict__ for d in summary.documents]}, ensure_ascii=False))
        return
    table = Table("document", "type", "lang", "chunks", "chars", "title",
                  title=f"{tenant} corpus v{summary.number} ({summary.id})")
    for d in summary.documents:
        table.add_row(d.file_name, d.detected_type, d.lang, str(d.n_chunks), str(d.n_chars), d.title)
    console.print(table)
    console.print(f"{len(summary.documents)} documents, {summary.n_chunks} chunks")


@app.command()
def corpus(
    tenant: str,
    action: Annotated[str, typer.Argument(help="show | versions | files | rejected | diff")] = "show",
    refs: Annotated[list[str] | None, typer.Argument(help="for diff: two versions, e.g. 1 2")] = None,
    version: Annotated[str, typer.Option(help="latest, a number, or a version id")] = "latest",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Show a corpus version's documents, the version history, or the files and why some were rejected."""
    from ownllm.corpus.versions import diff_versions, list_files, list_versions

    opened = home()
    owner = tenant_id(opened, tenant)
    if action == "show":
        _show_version(opened, owner, tenant, version, as_json)
    elif action == "versions":
        table = Table("version", "id", "documents", "created")
        for v, n in list_versions(opened, owner):
            table.add_row(str(v.number), v.id, str(n), v.created_at.isoformat(timespec="seconds"))
        console.print(table)
    elif action == "diff":
        if not refs or len(refs) != 2:
            raise typer.BadParameter("diff needs two versions: ownllm corpus TENANT diff 1 2")
        diff = diff_versions(opened, owner, refs[0], refs[1])
        for label, names, colour in (("+", diff.added, "green"), ("-", diff.removed, "red"),
                                     ("~", diff.changed, "yellow")):
            for name in names:
                console.print(f"[{colour}]{label} {name}[/]", highlight=False)
        console.print(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
                      f"{diff.unchanged} unchanged")
    elif action in ("files", "rejected"):
        files = list_files(opened, owner)
        if action == "rejected":
            files = [f for f in files if f.status in REJECTED_FILE_STATUSES]
        table = Table("file", "type", "size", "status", "reason / flags")
        for f in files:
            status = "deleted" if f.deleted_at else f.status
            table.add_row(f.original_name, f.detected_type, str(f.size), status,
                          "; ".join(filter(None, [f.error, *(f.flags or [])])))
        console.print(table)
    else:
        raise typer.BadParameter(f"unknown action {action!r}: use show, versions, files, rejected or diff")


@app.command()
def search(
    tenant: str,
    query: str,
    top_k: Annotated[int, typer.Option("--top-k", "-k")] = 5,
    corpus_ref: Annotated[str, typer.Option("--corpus")] = "latest",
    mode: Annotated[str, typer.Option(help="hybrid | lexical | dense")] = "hybrid",
    file_type: Annotated[list[str] | None, typer.Option("--type", help="only these file types (pdf, docx…)")] = None,
    lang: Annotated[str | None, typer.Option(help="only documents in this language (en, zh…)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ranked chunks for a query, with the document and place each came from."""
    from ownllm.retrieval.search import SearchFilters
    from ownllm.retrieval.search import search as run_search

    opened = home()
    owner = tenant_id(opened, tenant)
    filters = SearchFilters(types=tuple(file_type or ()), lang=lang)
    hits = run_search(opened, owner, query, corpus=corpus_ref, top_k=top_k, mode=mode,  # type: ignore[arg-type]
                      filters=filters)
    if as_json:
        print(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("no matching passages")
    for hit in hits:
        console.print(f"[bold]{hit.rank}.[/bold] {hit.file_name} · {hit.location} · score {hit.score:.2f}")
        snippet = hit.text if len(hit.text) < 300 else hit.text[:300] + "…"
        console.print(f"   {snippet}", highlight=False)


@app.command()
def ask(
    tenant: str,
    question: str,
    top_k: Annotated[int, typer.Option("--top-k", "-k")] = 5,
    model: Annotated[str | None, typer.Option(help="model id (see `ownllm models`); default: the tenant's reader")]
    = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 128,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer a question from the tenant's corpus, citing the sources (the same answer the API gives)."""
    from ownllm.chat.answer import AnswerRequest, Knowledge, answer
    from ownllm.models.roles import role_models
    from ownllm.services.runtime import Runtime

    opened = home()
    owner = tenant_id(opened, tenant)
    runtime = Runtime.for_cli(opened)
    started = time.monotonic()
    request = AnswerRequest(model or role_models(opened, owner).reader, [{"role": "user", "content": question}],
                            max_tokens=max_tokens, knowledge=Knowledge(top_k=top_k))
    reply = answer(opened, runtime.pool, owner, request)
    citations = reply.citations or []
    if as_json:
        print(json.dumps({"answer": reply.text, "citations": citations, "usage": reply.usage}, ensure_ascii=False))
        return
    console.print(f"[bold]Q:[/bold] {question}")
    console.print(f"[bold]A:[/bold] {reply.text}", highlight=False)
    for number, citation in enumerate(citations, start=1):
        console.print(f"   [{number}] {citation['document']} · {citation['location']} "
                      f"(chars {citation['span'][0]}–{citation['span'][1]})", highlight=False)
    console.print(f"[dim]{reply.prompt_tokens} prompt + {reply.completion_tokens} completion tokens, "
                  f"{time.monotonic() - started:.1f} s, model {reply.model}[/dim]")
