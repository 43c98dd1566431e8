"""`/v1/admin`: the operator's API (the `OWNLLM_ADMIN_KEY`, or a key with the `admin` scope): tenants,
their keys (scopes, expiry, limits, rotation) and every tenant's usage. Secrets are shown once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from ownllm.models.roles import check_settings
from ownllm.serve.auth import AdminOwner
from ownllm.serve.deps import HomeDep
from ownllm.serve.protocol import Body
from ownllm.store.catalog import ApiKey, Tenant
from ownllm.store.keys import SCOPES, create_key, get_key, list_keys, revoke_key, rotate_key
from ownllm.store.tenants import (
    create_tenant,
    delete_tenant,
    get_tenant,
    list_tenants,
    tenant_settings,
    update_tenant_settings,
)
from ownllm.store.usage import GROUPS, usage_summary

router = APIRouter(prefix="/v1/admin")


class TenantCreate(Body):
    name: str = Field(max_length=63)
    settings: dict[str, Any] = Field(default_factory=dict)


class KeyCreate(Body):
    name: str = Field("default", max_length=64)
    scopes: list[str] = Field(default_factory=lambda: ["inference", "files", "fine_tune"], max_length=len(SCOPES))
    expires_in_days: float | None = Field(None, gt=0, le=3650)
    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)


class SettingsPatch(Body):
    settings: dict[str, Any]
    replace: bool = False


def _tenant(tenant: Tenant, home: HomeDep) -> dict[str, Any]:
    return {"object": "tenant", "id": tenant.id, "name": tenant.name, "created_at": int(tenant.created_at.timestamp()),
            "settings": tenant_settings(home, tenant.id).model_dump()}


def _key(key: ApiKey, plaintext: str | None = None) -> dict[str, Any]:
    out = {"object": "api_key", "id": key.id, "tenant_id": key.tenant_id, "name": key.name, "scopes": key.scopes,
           "created_at": int(key.created_at.timestamp()),
           "expires_at": int(key.expires_at.timestamp()) if key.expires_at else None,
           "revoked_at": int(key.revoked_at.timestamp()) if key.revoked_at else None,
           "requests_per_minute": key.requests_per_minute, "tokens_per_minute": key.tokens_per_minute}
    if plaintext is not None:
        out["key"] = plaintext  # shown once
    return out


@router.post("/tenants")
def admin_create_tenant(body: TenantCreate, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    tenant = create_tenant(home, body.name)
    if body.settings:
        update_tenant_settings(home, tenant.id, body.settings, replace=True, check=check_settings)
    key, plaintext = create_key(home, tenant.id)
    return {**_tenant(tenant, home), "key": _key(key, plaintext)}


@router.get("/tenants")
def admin_list_tenants(_: AdminOwner, home: HomeDep) -> dict[str, Any]:
    return {"object": "list", "data": [_tenant(t, home) for t in list_tenants(home)]}


@router.get("/tenants/{tenant_id}")
def admin_get_tenant(tenant_id: str, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    return _tenant(get_tenant(home, tenant_id), home)


@router.patch("/tenants/{tenant_id}")
def admin_update_tenant(tenant_id: str, body: SettingsPatch, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    tenant = get_tenant(home, tenant_id)
    update_tenant_settings(home, tenant.id, body.settings, replace=body.replace, check=check_settings)
    return _tenant(tenant, home)


@router.delete("/tenants/{tenant_id}")
def admin_delete_tenant(tenant_id: str, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    tenant = get_tenant(home, tenant_id)
    delete_tenant(home, tenant.id)
    return {"object": "tenant", "id": tenant.id, "deleted": True}


@router.post("/tenants/{tenant_id}/keys")
def admin_create_key(tenant_id: str, body: KeyCreate, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    tenant = get_tenant(home, tenant_id)
    expires = datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, plaintext = create_key(home, tenant.id, body.name, scopes=body.scopes, expires_at=expires,
                                requests_per_minute=body.requests_per_minute,
                                tokens_per_minute=body.tokens_per_minute)
    return _key(key, plaintext)


@router.get("/tenants/{tenant_id}/keys")
def admin_list_keys(tenant_id: str, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    tenant = get_tenant(home, tenant_id)
    return {"object": "list", "data": [_key(k) for k in list_keys(home, tenant.id)]}


@router.post("/keys/{key_id}/revoke")
def admin_revoke_key(key_id: str, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    return _key(revoke_key(home, key_id))


@router.post("/keys/{key_id}/rotate")
def admin_rotate_key(key_id: str, _: AdminOwner, home: HomeDep) -> dict[str, Any]:
    get_key(home, key_id)
    key, plaintext = rotate_key(home, key_id)
    return {**_key(key, plaintext), "replaces": key_id}


@router.get("/usage")
def admin_usage(_: AdminOwner, home: HomeDep, group_by: str = Query("tenant", pattern="|".join(GROUPS)),
                days: int = Query(30, ge=1, le=366), tenant: str | None = None) -> dict[str, Any]:
    tenant_id = get_tenant(home, tenant).id if tenant else None
    return {"object": "list", "group_by": group_by, "days": days,
            "data": usage_summary(home, tenant_id, group_by, days)}
