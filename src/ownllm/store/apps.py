"""Tenant app specs and app runs in the catalog. Specs are stored as validated dicts (the apps
layer validates them before they get here); a new spec under an existing name is a new version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ownllm.errors import NotFound
from ownllm.store.catalog import AppRunRow, AppSpecRow
from ownllm.store.home import Home


def save_app_spec(home: Home, tenant_id: str, name: str, spec: dict[str, Any]) -> int:
    """Store the next version of the tenant's app `name`; returns that version."""
    with home.catalog.session() as session:
        latest = session.scalar(select(func.max(AppSpecRow.version))
                                .where(AppSpecRow.tenant_id == tenant_id, AppSpecRow.name == name))
        version = (latest or 0) + 1
        session.add(AppSpecRow(tenant_id=tenant_id, name=name, version=version, spec={**spec, "version": version}))
    return version


def tenant_app_specs(home: Home, tenant_id: str) -> dict[str, dict[str, Any]]:
    """The latest version of each of the tenant's own apps."""
    with home.catalog.session() as session:
        rows = session.scalars(select(AppSpecRow).where(AppSpecRow.tenant_id == tenant_id)
                               .order_by(AppSpecRow.name, AppSpecRow.version)).all()
        return {row.name: dict(row.spec) for row in rows}


def record_app_run(home: Home, tenant_id: str, *, app: str, app_version: int, model: str, status: str,
                   input_hashes: dict[str, str], result: dict[str, Any], prompt_tokens: int, completion_tokens: int,
                   latency_ms: float, first_token_ms: float | None) -> str:
    with home.catalog.session() as session:
        row = AppRunRow(tenant_id=tenant_id, app=app, app_version=app_version, model=model, status=status,
                        input_hashes=input_hashes, result=result, prompt_tokens=prompt_tokens,
                        completion_tokens=completion_tokens, latency_ms=latency_ms, first_token_ms=first_token_ms)
        session.add(row)
        session.flush()
        return row.id


def _run_dict(row: AppRunRow) -> dict[str, Any]:
    return {"id": row.id, "object": "app.run", "app": row.app, "app_version": row.app_version, "model": row.model,
            "status": row.status, "created_at": int(row.created_at.timestamp()), "input_hashes": row.input_hashes,
            "usage": {"prompt_tokens": row.prompt_tokens, "completion_tokens": row.completion_tokens,
                      "total_tokens": row.prompt_tokens + row.completion_tokens},
            "latency_ms": row.latency_ms, "first_token_ms": row.first_token_ms, **row.result}


def get_app_run(home: Home, tenant_id: str, run_id: str) -> dict[str, Any]:
    """One run of the tenant's; another tenant's run is not found (404), never forbidden."""
    with home.catalog.session() as session:
        row = session.get(AppRunRow, run_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"no app run {run_id!r}", param="run_id")
        return _run_dict(row)


def list_app_runs(home: Home, tenant_id: str, app: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    with home.catalog.session() as session:
        query = select(AppRunRow).where(AppRunRow.tenant_id == tenant_id)
        if app:
            query = query.where(AppRunRow.app == app)
        rows = session.scalars(query.order_by(AppRunRow.created_at.desc()).limit(limit)).all()
        return [_run_dict(row) for row in rows]
