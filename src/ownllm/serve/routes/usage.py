"""`GET /v1/usage`: the caller's own usage by day, model, key or endpoint (admins use /v1/admin/usage)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ownllm.serve.auth import AnyOwner
from ownllm.serve.deps import HomeDep
from ownllm.services.usage import cost_report
from ownllm.store.usage import usage_summary

router = APIRouter(prefix="/v1")


@router.get("/usage")
def get_usage(owner: AnyOwner, home: HomeDep, group_by: str = Query("day", pattern="^(day|model|key|endpoint)$"),
              days: int = Query(30, ge=1, le=366), cost: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "list", "group_by": group_by, "days": days,
                            "data": usage_summary(home, owner.tenant_id, group_by, days)}
    if cost:
        body["cost"] = cost_report(home, owner.tenant_id, days)
    return body
