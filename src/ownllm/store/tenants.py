"""Tenants: the unit of isolation. Every row a tenant owns carries its `tenant_id`."""

from __future__ import annotations

import re

from sqlalchemy import select

from ownllm.errors import Conflict, InvalidInput, NotFound
from ownllm.store.catalog import Tenant
from ownllm.store.home import Home

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


def get_settings(home: Home, tenant_id: str) -> dict:
    with home.catalog.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist")
        return dict(tenant.settings or {})


def set_settings(home: Home, tenant_id: str, settings: dict) -> None:
    """Validate, then store; a bad key or value is refused with its name, nothing is half-applied."""
    from ownllm.ingest.cleaning.config import cleaning_config
    from ownllm.ingest.limits import Limits
    from ownllm.ingest.parsers.media_asr import chinese_script_converter

    unknown = set(settings) - {"cleaning", "limits", "speech_language", "chinese_script"}
    if unknown:
        raise InvalidInput(f"unknown setting(s): {', '.join(sorted(unknown))}", param="settings")
    try:
        cleaning_config(settings)
        Limits().with_overrides(settings.get("limits"))
        chinese_script_converter(settings.get("chinese_script", "simplified"))
    except ValueError as exc:
        raise InvalidInput(f"invalid settings: {exc}", param="settings") from exc
    with home.catalog.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist")
        tenant.settings = settings
