"""The `ownllm` command line. Thin: it parses arguments, calls the service layer, shows progress.

Every command here has the same service function behind it that the API uses, so the
CLI and the HTTP API cannot drift apart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ownllm.errors import OwnLLMError
from ownllm.store.home import Home, open_home

app = typer.Typer(help="ownllm: your company's files in, your company's own model out.", no_args_is_help=True)
tenant_app = typer.Typer(help="Create and list tenants.", no_args_is_help=True)
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")
console = Console()
err = Console(stderr=True)


def _home() -> Home:
    return open_home()


def _fail(exc: OwnLLMError) -> NoReturn:
    err.print(f"[red]error:[/red] {exc.message}")
    raise typer.Exit(1)


def _tenant_id(home: Home, name: str) -> str:
    """The tenant's id, or a clean error exit naming the missing tenant."""
    from ownllm.store.tenants import get_tenant

    try:
        return get_tenant(home, name).id
    except OwnLLMError as exc:
        _fail(exc)


@app.command()
def init() -> None:
    """Create the data space (catalog + blob store) under $OWNLLM_HOME (default ~/.ownllm)."""
    home = _home()
    console.print(f"ownllm home ready at [bold]{home.root}[/bold] (catalog: {home.settings.catalog_url})")


@tenant_app.command("create")
def tenant_create(name: str) -> None:
    """Create a tenant and print its first API key (shown once)."""
    from ownllm.store.keys import create_key
    from ownllm.store.tenants import create_tenant

    home = _home()
    try:
        tenant = create_tenant(home, name)
    except OwnLLMError as exc:
        _fail(exc)
    _, plaintext = create_key(home, tenant.id)
    console.print(f"tenant [bold]{name}[/bold] created ({tenant.id})")
    console.print("API key (shown once, store it now):")
    print(plaintext)


@tenant_app.command("config")
def tenant_config(
    tenant: str,
    settings_json: Annotated[str | None, typer.Argument(help="JSON settings to store")] = None,
) -> None:
    """Show or replace a tenant's settings (cleaning steps, PII kinds, limits, speech language)."""
    from ownllm.store.tenants import get_settings, set_settings

    home = _home()
    tenant_id = _tenant_id(home, tenant)
    try:
        if settings_json is not None:
            set_settings(home, tenant_id, json.loads(settings_json))
        print(json.dumps(get_settings(home, tenant_id), indent=1, ensure_ascii=False))
    except (OwnLLMError, json.JSONDecodeError) as exc:
        _fail(exc if isinstance(exc, OwnLLMError) else OwnLLMError(f"settings are not valid JSON: {exc}"))


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants."""
    from ownllm.store.tenants import list_tenants

    table = Table("name", "id", "created")
    for tenant in list_tenants(_home()):
        table.add_row(tenant.name, tenant.id, tenant.created_at.isoformat(timespec="seconds"))
    console.print(table)


@key_app.command("create")
def key_create(tenant: str, name: Annotated[str, typer.Option(help="a label for the key")] = "default") -> None:
    """Create another API key for a tenant (printed once)."""
    from ownllm.store.keys import create_key

    home = _home()
    _, plaintext = create_key(home, _tenant_id(home, tenant), name)
    print(plaintext)


@key_app.command("list")
def key_list(tenant: str) -> None:
    """List a tenant's keys (ids only; secrets are never stored)."""
    from ownllm.store.keys import list_keys

    home = _home()
    table = Table("key id", "name", "created", "revoked")
    for key in list_keys(home, _tenant_id(home, tenant)):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        table.add_row(key.id, key.name, key.created_at.isoformat(timespec="seconds"), revoked)
    console.print(table)


@key_app.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from ownllm.store.keys import revoke_key

    try:
        revoke_key(_home(), key_id)
    except OwnLLMError as exc:
        _fail(exc)
    console.print(f"revoked {key_id}")


@app.command()
def ingest(tenant: str, paths: list[Path]) -> None:
    """Ingest files and folders into a tenant's data space, making a new corpus version if anything changed."""
    from ownllm.corpus.versions import get_version
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.retrieval.indexes import ensure_indexes

    home = _home()
    tenant_id = _tenant_id(home, tenant)
    try:
        columns = [TextColumn("[bold]{task.fields[stage]}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[item]}")]
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task("ingest", total=None, stage="ingest", item="")

            def show(done: int, total: int, stage: str | None, item: str | None) -> None:
                progress.update(task, completed=done, total=total, stage=stage or "", item=item or "")

            report = ingest_paths(home, tenant_id, paths, on_progress=show)
            if report.version_id is not None:
                progress.update(task, stage="index", item=f"corpus v{report.version_number}")
                ensure_indexes(home, get_version(home, tenant_id, report.version_id))
    except OwnLLMError as exc:
        _fail(exc)
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


@app.command()
def corpus(
    tenant: str,
    action: Annotated[str, typer.Argument(help="show | versions | files | rejected | diff")] = "show",
    refs: Annotated[list[str] | None, typer.Argument(help="for diff: two versions, e.g. 1 2")] = None,
    version: Annotated[str, typer.Option(help="latest, a number, or a version id")] = "latest",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Show a corpus version's documents, the version history, or the files and why some were rejected."""
    from ownllm.corpus.versions import diff_versions, list_files, list_versions, summarize_version

    home = _home()
    tenant_id = _tenant_id(home, tenant)
    try:
        if action == "show":
            summary = summarize_version(home, tenant_id, version)
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
        elif action == "versions":
            table = Table("version", "id", "documents", "created")
            for v, n in list_versions(home, tenant_id):
                table.add_row(str(v.number), v.id, str(n), v.created_at.isoformat(timespec="seconds"))
            console.print(table)
        elif action == "diff":
            if not refs or len(refs) != 2:
                raise typer.BadParameter("diff needs two versions: ownllm corpus TENANT diff 1 2")
            diff = diff_versions(home, tenant_id, refs[0], refs[1])
            for label, names, colour in (("+", diff.added, "green"), ("-", diff.removed, "red"),
                                         ("~", diff.changed, "yellow")):
                for name in names:
                    console.print(f"[{colour}]{label} {name}[/]", highlight=False)
            console.print(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
                          f"{diff.unchanged} unchanged")
        elif action in ("files", "rejected"):
            files = list_files(home, tenant_id)
            if action == "rejected":
                files = [f for f in files if f.status in ("failed", "unsupported")]
            table = Table("file", "type", "size", "status", "reason / flags")
            for f in files:
                status = "deleted" if f.deleted_at else f.status
                table.add_row(f.original_name, f.detected_type, str(f.size), status,
                              "; ".join(filter(None, [f.error, *(f.flags or [])])))
            console.print(table)
        else:
            raise typer.BadParameter(f"unknown action {action!r}: use show, versions, files or rejected")
    except OwnLLMError as exc:
        _fail(exc)


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

    home = _home()
    tenant_id = _tenant_id(home, tenant)
    try:
        filters = SearchFilters(types=tuple(file_type or ()), lang=lang)
        hits = run_search(home, tenant_id, query, corpus=corpus_ref, top_k=top_k, mode=mode,  # type: ignore[arg-type]
                          filters=filters)
    except OwnLLMError as exc:
        _fail(exc)
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
    model: Annotated[str | None, typer.Option(help="model id (see `ownllm models`)")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 128,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer a question from the tenant's corpus with the base model, citing the sources."""
    from ownllm.models.hub import DEFAULT_MODEL_ID
    from ownllm.models.registry import resolve_model
    from ownllm.retrieval.rag import ask as run_ask
    from ownllm.serve.engines.llamacpp import get_engine

    home = _home()
    tenant_id = _tenant_id(home, tenant)
    try:
        entry = resolve_model(model or DEFAULT_MODEL_ID, tenant_id, home)
        started = time.monotonic()
        engine = get_engine(entry.path, home.settings.n_ctx, home.settings.n_threads, entry.lora)
        answer = run_ask(home, tenant_id, question, engine, top_k=top_k, max_tokens=max_tokens)
    except OwnLLMError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps({"answer": answer.answer, "citations": answer.citations}, ensure_ascii=False))
        return
    console.print(f"[bold]Q:[/bold] {question}")
    console.print(f"[bold]A:[/bold] {answer.answer}", highlight=False)
    for number, citation in enumerate(answer.citations, start=1):
        console.print(f"   [{number}] {citation['document']} · {citation['location']} "
                      f"(chars {citation['span'][0]}–{citation['span'][1]})", highlight=False)
    console.print(f"[dim]{answer.prompt_tokens} prompt + {answer.completion_tokens} completion tokens, "
                  f"{time.monotonic() - started:.1f} s, model {entry.id}[/dim]")


@app.command()
def models() -> None:
    """List the models this installation can serve and where each came from."""
    from ownllm.models.hub import SHIPPED_MODELS

    table = Table("id", "installed", "source", "license", "path")
    for model in SHIPPED_MODELS.values():
        installed = model.installed
        table.add_row(model.id, "yes" if installed else "no", f"pypi:{model.package}", model.license,
                      str(model.locate()) if installed else "")
    console.print(table)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the OpenAI-compatible API."""
    import uvicorn

    from ownllm.serve.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def sample(out_dir: Path) -> None:
    """Write the bundled sample company (drop-box + facts.jsonl) to OUT_DIR."""
    from ownllm.samples.generate import generate

    company = generate(out_dir)
    console.print(f"wrote {len(company.manifest())} documents to {company.dropbox} and "
                  f"{len(company.facts())} facts to {company.facts_path}")


@app.command()
def job(job_id: str) -> None:
    """Show a job's status, progress and events."""
    from ownllm.jobs.tracker import get_job, job_events

    home = _home()
    try:
        found = get_job(home, job_id)
    except OwnLLMError as exc:
        _fail(exc)
    console.print(f"{found.id} {found.kind}: {found.status} ({found.progress_done}/{found.progress_total})")
    for event in job_events(home, job_id):
        console.print(f"  {event.created_at.isoformat(timespec='seconds')} {event.level:7s} {event.message}",
                      highlight=False)


# synth / tune / export live in their own module; importing it registers them on `app`
from ownllm import cli_tuning  # noqa: E402, F401
