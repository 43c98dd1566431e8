"""`ownllm init`, `ownllm tenant …`, `ownllm key …`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ownllm.cli.app import app, console, home, tenant_id
from ownllm.errors import InvalidInput

tenant_app = typer.Typer(help="Create, list and configure tenants.", no_args_is_help=True)
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")


@app.command()
def init() -> None:
    """Create the data space (catalog + blob store) under $OWNLLM_HOME (default ~/.ownllm)."""
    opened = home()
    console.print(f"ownllm home ready at [bold]{opened.root}[/bold] (catalog: {opened.settings.catalog_url})")


@tenant_app.command("create")
def tenant_create(name: str) -> None:
    """Create a tenant and print its first API key (shown once)."""
    from ownllm.store.keys import create_key
    from ownllm.store.tenants import create_tenant

    opened = home()
    tenant = create_tenant(opened, name)
    _, plaintext = create_key(opened, tenant.id)
    console.print(f"tenant [bold]{name}[/bold] created ({tenant.id})")
    console.print("API key (shown once, store it now):")
    print(plaintext)


@tenant_app.command("config")
def tenant_config(
    tenant: str,
    settings_json: Annotated[str | None, typer.Argument(help="JSON settings to merge into the stored ones")] = None,
    replace: Annotated[bool, typer.Option(help="replace all settings instead of merging")] = False,
) -> None:
    """Show or change a tenant's settings (cleaning steps, PII kinds, limits, speech language).

    A bad key or value is refused with its name, and the stored settings stay as they were.
    """
    from ownllm.models.roles import check_settings
    from ownllm.store.tenants import tenant_settings, update_tenant_settings

    opened = home()
    owner = tenant_id(opened, tenant)
    if settings_json is not None:
        try:
            changes = json.loads(settings_json)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"settings are not valid JSON: {exc}", param="settings") from exc
        update_tenant_settings(opened, owner, changes, replace=replace, check=check_settings)
    print(json.dumps(tenant_settings(opened, owner).model_dump(), indent=1, ensure_ascii=False))


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants."""
    from ownllm.store.tenants import list_tenants

    table = Table("name", "id", "created")
    for tenant in list_tenants(home()):
        table.add_row(tenant.name, tenant.id, tenant.created_at.isoformat(timespec="seconds"))
    console.print(table)


@key_app.command("create")
def key_create(tenant: str, name: Annotated[str, typer.Option(help="a label for the key")] = "default") -> None:
    """Create another API key for a tenant (printed once)."""
    from ownllm.store.keys import create_key

    opened = home()
    _, plaintext = create_key(opened, tenant_id(opened, tenant), name)
    print(plaintext)


@key_app.command("list")
def key_list(tenant: str) -> None:
    """List a tenant's keys (ids only; secrets are never stored)."""
    from ownllm.store.keys import list_keys

    opened = home()
    table = Table("key id", "name", "created", "revoked")
    for key in list_keys(opened, tenant_id(opened, tenant)):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        table.add_row(key.id, key.name, key.created_at.isoformat(timespec="seconds"), revoked)
    console.print(table)


@key_app.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from ownllm.store.keys import revoke_key

    revoke_key(home(), key_id)
    console.print(f"revoked {key_id}")
