"""Operating ownllm: `ownllm models`, `serve`, `sample`, `job`."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ownllm.cli.app import app, console, home


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
    """Serve the OpenAI-compatible API (graceful: in-flight requests finish on Ctrl-C)."""
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
