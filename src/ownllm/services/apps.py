"""Apps as a service: the catalog of apps a tenant can run (built-in and its own), running one on a
model of the tenant's hub with every run recorded, and reading runs back. The API, the CLI, the
console and `ownllm app eval` all come through here."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ownllm.apps.inputs import AppFile
from ownllm.apps.runner import AppResult, run_app
from ownllm.apps.spec import AppSpec, AppSpecError, builtin_specs, parse_spec
from ownllm.errors import InvalidInput, NotFound
from ownllm.models.roles import role_models
from ownllm.services.runtime import Runtime
from ownllm.store.apps import get_app_run, list_app_runs, record_app_run, save_app_spec, tenant_app_specs
from ownllm.store.home import Home

MAX_TENANT_APPS = 100


@lru_cache(maxsize=512)
def _parsed(stored: str) -> AppSpec:
    """A stored spec, validated once per process (validation builds its grammar)."""
    data = json.loads(stored)
    return parse_spec(data, f"app {data.get('name')}")


def app_catalog(home: Home, tenant_id: str) -> dict[str, AppSpec]:
    """Built-in apps, then the tenant's own (latest version of each)."""
    apps = dict(builtin_specs())
    for name, stored in tenant_app_specs(home, tenant_id).items():
        apps[name] = _parsed(json.dumps(stored, sort_keys=True)).model_copy()
    return apps


def find_app(home: Home, tenant_id: str, name: str) -> AppSpec:
    apps = app_catalog(home, tenant_id)
    if name not in apps:
        raise NotFound(f"no app {name!r}; apps are {', '.join(sorted(apps))}", param="app")
    return apps[name]


def add_app(home: Home, tenant_id: str, source: str | bytes | dict[str, Any]) -> AppSpec:
    """Validate a tenant's app spec completely, then store it as the next version of its name."""
    try:
        spec = parse_spec(source, "app spec")
    except AppSpecError as exc:
        raise InvalidInput(str(exc), param="spec") from exc
    if spec.name in builtin_specs():
        raise InvalidInput(f"app spec: name {spec.name!r} is a built-in app; choose another name", param="spec.name")
    own = tenant_app_specs(home, tenant_id)
    if spec.name not in own and len(own) >= MAX_TENANT_APPS:
        raise InvalidInput(f"app spec: this tenant already has {len(own)} apps, the limit", param="spec.name")
    data = spec.model_dump(exclude={"builtin", "version"})
    spec.version = save_app_spec(home, tenant_id, spec.name, data)
    return spec


def run_and_record(runtime: Runtime, tenant_id: str, app: str, inputs: dict[str, Any],
                   files: dict[str, AppFile] | None = None, model: str | None = None,
                   knowledge: bool = True) -> tuple[str, AppResult]:
    """Run an app on `model` (default: the tenant's reader) and record the run; returns its id and result."""
    home = runtime.home
    spec = find_app(home, tenant_id, app)
    chosen = model or role_models(home, tenant_id).reader
    result = run_app(home, runtime.pool, tenant_id, spec, chosen, inputs, files, knowledge=knowledge)
    stored = {key: value for key, value in result.as_dict().items()
              if key in ("output", "checks", "citations", "markdown", "lang", "attempts", "notes",
                         "speech_to_first_token_ms", "variant")}
    stored["html"] = result.html
    run_id = record_app_run(home, tenant_id, app=spec.name, app_version=spec.version, model=chosen,
                            status=result.status, input_hashes=result.input_hashes, result=stored,
                            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
                            latency_ms=result.latency_ms, first_token_ms=result.first_token_ms)
    return run_id, result


def app_run(home: Home, tenant_id: str, run_id: str) -> dict[str, Any]:
    return get_app_run(home, tenant_id, run_id)


def app_page(run: dict[str, Any]) -> str | None:
    """The page an app built as its output (the sketch's ordering app), when it built one; else None and the
    run's report is what people read."""
    return (run.get("output") or {}).get("html") or None


def app_runs(home: Home, tenant_id: str, app: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    return list_app_runs(home, tenant_id, app, limit)
