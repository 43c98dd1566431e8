"""The root command, the shared console and the one error boundary."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ownllm.errors import OwnLLMError
from ownllm.store.home import Home, open_home

app = typer.Typer(help="ownllm: your company's files in, your company's own model out.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)
BAR = [TextColumn("[bold]{task.fields[stage]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
       TextColumn("{task.fields[item]}")]


def home() -> Home:
    return open_home()


def tenant_id(opened: Home, name: str) -> str:
    """The tenant's id; a missing tenant is a domain error naming it (the boundary prints it)."""
    from ownllm.store.tenants import get_tenant

    return get_tenant(opened, name).id


def progress_bar(*extra: TextColumn) -> Progress:
    return Progress(*BAR, *extra, console=err, transient=False)


def main() -> None:
    """Entry point: run the command; a domain error is one red line on stderr and exit code 1."""
    try:
        app()
    except OwnLLMError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(1)
