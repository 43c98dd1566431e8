"""Tenants: the unit of isolation. Every row a tenant owns carries its `tenant_id`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ownllm.errors import Conflict, InvalidInput, NotFound
from ownllm.store.catalog import Tenant
from ownllm.store.home import Home
from ownllm.store.tenant_settings import TenantSettings, parse_tenant_settings

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def create_tenant(home: Home, name: str) -> Tenant:
    if not _NAME.match(name):
        raise InvalidInput(
            f"tenant name {name!r} is invalid: use 1-63 lowercase letters, digits, '-' or '_'", param="name"
        )
    with home.catalog.session() as session:
        if session.scalar(select(Tenant).where(Tenant.name == name)) is not None:
            raise Conflict(f"tenant {name!r} already exists", param="name")
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
        return tenant


def get_tenant(home: Home, name_or_id: str) -> Tenant:
    with home.catalog.session() as session:
        tenant = session.scalar(
            select(Tenant).where((Tenant.name == name_or_id) | (Tenant.id == name_or_id))
        )
        if tenant is None:
            raise NotFound(f"tenant {name_or_id!r} does not exist (create it with `ownllm tenant create`)")
        return tenant


def list_tenants(home: Home) -> list[Tenant]:
    with home.catalog.session() as session:
        return list(session.scalars(select(Tenant).order_by(Tenant.created_at)))


def tenant_settings(home: Home, tenant_id: str) -> TenantSettings:
    """The tenant's validated settings (defaults for everything it never set)."""
    with home.catalog.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist")
        return parse_tenant_settings(tenant.settings)


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def update_tenant_settings(home: Home, tenant_id: str, changes: dict[str, Any], *, replace: bool = False,
                           check: Callable[[TenantSettings], None] | None = None) -> TenantSettings:
    """Merge `changes` into the stored settings (or replace them), validate the result, then store it.

    A bad key or value is refused with its dotted name and nothing is stored, so a typo never
    loses the settings a tenant already has. `check` adds what only a higher layer can judge
    (that a chosen model is installed).
    """
    if not isinstance(changes, dict):
        raise InvalidInput("tenant settings must be a JSON object", param="settings")
    with home.catalog.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist")
        merged = changes if replace else _merge(dict(tenant.settings or {}), changes)
        parsed = parse_tenant_settings(merged)
        if check is not None:
            check(parsed)
        tenant.settings = parsed.model_dump(exclude_unset=True)
        return parsed


def delete_tenant(home: Home, tenant_id: str) -> None:
    """Delete a tenant and everything it owns in the catalog (its keys stop working at once) and on disk;
    shared blobs that no other tenant's file uses are removed too."""
    import shutil

    from ownllm.store.catalog import File

    with home.catalog.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist", param="tenant")
        shas = set(session.scalars(select(File.sha256).where(File.tenant_id == tenant_id)))
        session.delete(tenant)
    with home.catalog.session() as session:
        still_used = set(session.scalars(select(File.sha256).where(File.sha256.in_(shas))))
    for sha in shas - still_used:
        home.blobs.delete(sha)
    for folder in ("runs", "datasets", "evals", "indexes", "uploads"):
        shutil.rmtree(home.root / folder / tenant_id, ignore_errors=True)
