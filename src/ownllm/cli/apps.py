"""`ownllm app list|show|add|run|runs|eval`: the apps on a tenant's model, from the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ownllm.cli.app import app, console, err, home, tenant_id

app_app = typer.Typer(help="Run apps (meeting minutes, chat digest, plans, voice, sketch-to-app) on a tenant's model.",
                      no_args_is_help=True)
app.add_typer(app_app, name="app")


def _parse_inputs(pairs: list[str] | None, inputs_file: Path | None) -> dict:
    inputs = json.loads(inputs_file.read_text(encoding="utf-8")) if inputs_file else {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--input {pair!r}: write key=value")
        try:
            inputs[key] = json.loads(value)
        except json.JSONDecodeError:
            inputs[key] = value
    return inputs


@app_app.command("list")
def app_list(tenant: str) -> None:
    """The apps the tenant can run: built-in and its own."""
    from rich.table import Table

    from ownllm.services.apps import app_catalog

    opened = home()
    table = Table("app", "version", "title", "files", "grounded")
    for spec in app_catalog(opened, tenant_id(opened, tenant)).values():
        title = spec.title if isinstance(spec.title, str) else " / ".join(spec.title.values())
        table.add_row(spec.name + ("" if spec.builtin else " (own)"), str(spec.version), title,
                      ", ".join(f"{k} ({v.kind})" for k, v in spec.files.items()) or "–",
                      "yes" if spec.retrieval else "–")
    console.print(table)


@app_app.command("add")
def app_add(tenant: str, spec_file: Path) -> None:
    """Add the tenant's own app from a YAML or JSON spec (validated; a known name gets a new version)."""
    from ownllm.services.apps import add_app

    opened = home()
    spec = add_app(opened, tenant_id(opened, tenant), spec_file.read_bytes())
    console.print(f"app {spec.name} version {spec.version} added")


def _print_run(run: dict, fmt: str, out: Path | None) -> None:
    if fmt == "json":
        text = json.dumps(run, ensure_ascii=False, indent=2)
    elif fmt == "html":
        from ownllm.services.apps import app_page

        text = app_page(run) or run.get("html") or ""
    else:
        text = run.get("markdown") or ""
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
    else:
        print(text)
    if fmt != "json":
        checks = run.get("checks") or []
        failed = [c for c in checks if not c["passed"]]
        err.print(f"[dim]run {run['id']} · {run['status']} · {run['model']} · {run['usage']['total_tokens']} tokens · "
                  f"{run['latency_ms'] / 1000:.1f} s · checks {len(checks) - len(failed)}/{len(checks)}[/dim]")
        for check in failed:
            err.print(f"[yellow]check {check['check']} failed: {check['detail']}[/yellow]")


@app_app.command("run")
def app_run_command(
    tenant: str,
    app_name: Annotated[str, typer.Argument(metavar="APP")],
    input_pairs: Annotated[list[str] | None, typer.Option("--input", "-i", help="key=value (value may be JSON)")]
    = None,
    inputs_file: Annotated[Path | None, typer.Option("--inputs", help="a JSON file of inputs")] = None,
    file_pairs: Annotated[list[str] | None, typer.Option("--file", "-f", help="slot=path, e.g. recording=m.m4a")]
    = None,
    model: Annotated[str | None, typer.Option(help="model id; default: the tenant's reader")] = None,
    knowledge: Annotated[bool, typer.Option("--knowledge/--no-knowledge")] = True,
    fmt: Annotated[str, typer.Option("--format", help="markdown | html | json")] = "markdown",
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:
    """Run an app and print its result (the run is recorded: `ownllm app show`)."""
    from ownllm.apps.inputs import AppFile
    from ownllm.services.apps import app_run, run_and_record
    from ownllm.services.runtime import Runtime

    opened = home()
    owner = tenant_id(opened, tenant)
    files = {}
    for pair in file_pairs or []:
        slot, sep, path = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--file {pair!r}: write slot=path")
        files[slot] = AppFile(Path(path).name, Path(path).read_bytes())
    with err.status(f"running {app_name}…"):
        run_id, _ = run_and_record(Runtime.for_cli(opened), owner, app_name, _parse_inputs(input_pairs, inputs_file),
                                   files, model, knowledge)
    _print_run(app_run(opened, owner, run_id), fmt, out)


@app_app.command("show")
def app_show(
    tenant: str,
    run_id: str,
    fmt: Annotated[str, typer.Option("--format", help="markdown | html | json")] = "markdown",
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:
    """A recorded run."""
    from ownllm.services.apps import app_run

    opened = home()
    _print_run(app_run(opened, tenant_id(opened, tenant), run_id), fmt, out)


@app_app.command("runs")
def app_runs_command(tenant: str, app_name: Annotated[str | None, typer.Option("--app")] = None,
                     limit: int = 20) -> None:
    """The tenant's latest runs."""
    from rich.table import Table

    from ownllm.services.apps import app_runs

    opened = home()
    table = Table("run", "app", "model", "status", "tokens", "seconds")
    for run in app_runs(opened, tenant_id(opened, tenant), app_name, limit):
        table.add_row(run["id"], f"{run['app']} v{run['app_version']}", run["model"], run["status"],
                      str(run["usage"]["total_tokens"]), f"{run['latency_ms'] / 1000:.1f}")
    console.print(table)


@app_app.command("eval")
def app_eval(
    tenant: str,
    models: Annotated[list[str] | None, typer.Option("--model", "-m", help="repeat to compare models")] = None,
    apps: Annotated[list[str] | None, typer.Option("--app", "-a", help="repeat; default: all six built-in apps")]
    = None,
    limit: Annotated[int | None, typer.Option(help="cases per app (half English, half Chinese)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
) -> None:
    """Score apps on their eval sets (schema-valid, checks passed, grounded claims, expected facts, latency)."""
    from rich.table import Table

    from ownllm.apps.scorecard import run_scorecard
    from ownllm.models.roles import role_models
    from ownllm.services.runtime import Runtime

    opened = home()
    owner = tenant_id(opened, tenant)
    chosen = models or [role_models(opened, owner).reader]
    runtime = Runtime.for_cli(opened)
    with err.status("scoring apps…") as status:
        card = run_scorecard(opened, runtime.pool, owner, chosen, apps, limit,
                             progress=lambda text: status.update(text))
    table = Table("app", "model", "cases", "schema-valid", "checks passed", "grounded", "expected facts", "s/case")
    for row in card["rows"]:
        table.add_row(row["app"], row["model"], str(row["cases"]), f"{row['schema_valid']:.2f}",
                      f"{row['checks_passed']:.2f}",
                      "–" if row["grounded"] is None else f"{row['grounded']:.2f}", f"{row['expected']:.2f}",
                      f"{row['seconds']:.1f}")
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
        err.print(f"wrote {json_out}")
