"""`/v1/apps` (ownllm extension): the apps a tenant can run, its own app specs, runs and their reports.

A run is posted as JSON (`{"inputs": {...}, "model": ..., "knowledge": true}`) or, when the app
takes files (a recording, a chat export, a sketch), as multipart with the same fields (`inputs`
as a JSON string) and one file part per slot. Audio may also be streamed as the raw body
(`Content-Type: audio/...`, chunked while it is being recorded; `?slot=audio&inputs={...}`): the run
starts when the last chunk arrives, which is when a voice request's latency clock starts. Runs are
metered like chat.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ownllm.apps.inputs import AppFile
from ownllm.errors import InvalidInput
from ownllm.serve.auth import AnyOwner, Owner
from ownllm.serve.deps import HomeDep, RuntimeDep
from ownllm.serve.metering import spent
from ownllm.services.apps import add_app, app_catalog, app_page, app_run, app_runs, find_app, run_and_record

router = APIRouter(prefix="/v1/apps")


@router.get("")
def list_apps(owner: AnyOwner, home: HomeDep) -> dict[str, Any]:
    return {"object": "list", "data": [{"object": "app", **spec.summary()}
                                       for spec in app_catalog(home, owner.tenant_id).values()]}


@router.post("")
async def create_app(request: Request, owner: Owner, home: HomeDep) -> dict[str, Any]:
    """A tenant's own app: the spec as JSON, or `{"yaml": "<spec>"}`; validated strictly, then versioned."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput("the body must be a JSON app spec, or {\"yaml\": \"...\"}", param="spec") from exc
    source = body.get("yaml") if isinstance(body, dict) and set(body) == {"yaml"} else body
    if not isinstance(source, str | dict):
        raise InvalidInput("the body must be a JSON app spec, or {\"yaml\": \"...\"}", param="spec")
    spec = await run_in_threadpool(add_app, home, owner.tenant_id, source)
    return {"object": "app", **spec.summary()}


@router.get("/runs")
def list_runs(owner: AnyOwner, home: HomeDep, app: str | None = None, limit: int = 20) -> dict[str, Any]:
    return {"object": "list", "data": app_runs(home, owner.tenant_id, app, max(1, min(limit, 100)))}


@router.get("/runs/{run_id}")
def retrieve_run(run_id: str, owner: AnyOwner, home: HomeDep) -> dict[str, Any]:
    return app_run(home, owner.tenant_id, run_id)


@router.get("/runs/{run_id}/report")
def run_report(run_id: str, owner: AnyOwner, home: HomeDep, format: str = "html") -> Any:
    """The run rendered for people: HTML to paste into mail, or Markdown."""
    run = app_run(home, owner.tenant_id, run_id)
    if format == "markdown":
        return PlainTextResponse(run.get("markdown") or "", media_type="text/markdown; charset=utf-8")
    if format != "html":
        raise InvalidInput("format must be html or markdown", param="format")
    page = app_page(run)
    if page:
        return HTMLResponse(page)
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>{run['app']}</title>{run.get('html') or ''}")


@router.get("/{app}")
def retrieve_app(app: str, owner: AnyOwner, home: HomeDep) -> dict[str, Any]:
    spec = find_app(home, owner.tenant_id, app)
    return {"object": "app", **spec.model_dump()}


def _text_flag(value: str) -> bool:
    """`knowledge` sent as text (a query parameter or a form field): anything but false/0/no is on."""
    return value.lower() not in ("false", "0", "no")


def _query_inputs(request: Request) -> dict[str, Any]:
    try:
        return json.loads(request.query_params.get("inputs") or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"inputs is not JSON: {exc}", param="inputs") from exc


async def _run_request(request: Request) -> tuple[dict[str, Any], dict[str, AppFile], str | None, bool]:
    kind = request.headers.get("content-type", "")
    if kind.startswith(("audio/", "video/")):  # a streamed recording: the body is the file
        slot = request.query_params.get("slot", "audio")
        chunks = [chunk async for chunk in request.stream()]
        knowledge = _text_flag(request.query_params.get("knowledge", "true"))
        return (_query_inputs(request), {slot: AppFile(f"{slot}.{kind.split('/')[1].split(';')[0]}", b"".join(chunks))},
                request.query_params.get("model"), knowledge)
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        files, fields = {}, {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[key] = AppFile(value.filename or key, await value.read())
            else:
                fields[key] = value
        try:
            inputs = json.loads(fields.get("inputs") or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"inputs is not JSON: {exc}", param="inputs") from exc
        knowledge = _text_flag(str(fields.get("knowledge", "true")))
        return inputs, files, fields.get("model") or None, knowledge
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput("the body must be JSON {\"inputs\": {...}} or multipart form data", param="body") from exc
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", param="body")
    knowledge = body.get("knowledge", True)
    if not isinstance(knowledge, bool):
        raise InvalidInput("knowledge must be true or false", param="knowledge")
    return body.get("inputs") or {}, {}, body.get("model"), knowledge


@router.post("/{app}/runs")
async def create_run(app: str, request: Request, owner: Owner, runtime: RuntimeDep) -> dict[str, Any]:
    inputs, files, model, knowledge = await _run_request(request)
    if not isinstance(inputs, dict):
        raise InvalidInput("inputs must be a JSON object", param="inputs")
    started = time.monotonic()
    run_id, result = await run_in_threadpool(run_and_record, runtime, owner.tenant_id, app, inputs, files, model,
                                             knowledge)
    first = started + result.first_token_ms / 1000 if result.first_token_ms is not None else None
    spent(request, result.model, result.prompt_tokens, result.completion_tokens, first)
    return app_run(runtime.home, owner.tenant_id, run_id)
