"""The `ownllm` command line: typer sub-apps that parse arguments, call a service, render with rich.

Errors are handled once, in `main()`: a domain error prints its message and exits 1.
"""

from ownllm.cli import apps, corpus, models, teach, tenants  # noqa: F401 - each registers its commands
from ownllm.cli.app import app, main

__all__ = ["app", "main"]
