"""What a person does in the console (sign in, upload, start and cancel jobs, chat, run apps), and the
files it serves (previews, originals, exports). Each action checks the session's CSRF token and the key's
scope, then calls the same service the API route calls; rate limits and metering apply as on the API."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ownllm.apps.inputs import AppFile
from ownllm.errors import InvalidInput, NotFound, OwnLLMError, Unauthenticated
from ownllm.evaluate.questions import question_from_row
from ownllm.jobs.tracker import cancel_job
from ownllm.openai_schema import ChatCompletionRequest
from ownllm.serve.auth import authenticate_token
from ownllm.serve.console.pages import (
    User,
    app_fields,
    eval_form_context,
    safe_next,
    tenant_user,
    tuning_form_context,
)
from ownllm.serve.console.render import page
from ownllm.serve.console.session import (
    LOGIN_CSRF_COOKIE,
    ConsoleUser,
    check_csrf,
    end,
    issue,
    language,
    login_csrf_valid,
)
from ownllm.serve.metering import admit, spent
from ownllm.serve.protocol import EvalCreate
from ownllm.serve.routes.chat import chat_completions
from ownllm.services.apps import app_page, find_app, run_and_record
from ownllm.services.browse import eval_report, export_path
from ownllm.services.datafiles import own_file
from ownllm.services.evaluation import create_eval_job
from ownllm.services.exports import create_export_job
from ownllm.services.fine_tuning import FineTuningSpec, create_fine_tuning_job
from ownllm.services.ingestion import accept_upload
from ownllm.services.previews import media_type, preview_image
from ownllm.store.statuses import JobKind

router = APIRouter(prefix="/console", include_in_schema=False)


async def acting(request: Request, user: User) -> ConsoleUser:
    """A request that spends (uploads, starts jobs, generates): the CSRF token must match, it is admitted under
    the rate limits and metered like the API call it stands for (page views are neither)."""
    await check_csrf(request, user)
    request.state.owner = user.owner
    if user.tenant_id:
        admit(request, user.owner)
    return user


async def confirming(request: Request, user: User) -> ConsoleUser:
    """A request that only stops or leaves (sign out, cancel): the CSRF token, but no rate limit to block it."""
    await check_csrf(request, user)
    return user


Actor = Annotated[ConsoleUser, Depends(acting)]
Confirmer = Annotated[ConsoleUser, Depends(confirming)]


@router.post("/login")
async def login(request: Request, key: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    lang = language(request)
    if not expected or csrf != expected or not login_csrf_valid(request, expected):
        return page(request, None, "login.html", status=403, lang=lang, login_csrf=expected or "",
                    next=safe_next(next), error="The sign-in form expired: reload the page and try again.")
    try:
        owner = await run_in_threadpool(authenticate_token, request, key.strip())
    except (Unauthenticated, OwnLLMError) as exc:
        return page(request, None, "login.html", status=401, lang=lang, login_csrf=expected, next=safe_next(next),
                    error=exc.message)
    response = RedirectResponse(safe_next(next) if next else "/console/", status_code=303)
    issue(response, request, owner)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(user: Confirmer) -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    end(response)
    return response


# ---------------------------------------------------------------- data space
@router.post("/data/upload")
async def upload(request: Request, user: Actor, file: UploadFile) -> JSONResponse:
    """One file per request (the page sends them in parallel, each with its own progress bar); uploads that
    arrive while an ingest waits join it, so a folder becomes one job and one corpus version."""
    tenant_user(user, "files")
    accepted = await run_in_threadpool(accept_upload, request.app.state.runtime, user.tenant_id, file.filename,
                                       file.file)
    return JSONResponse({"file_id": accepted.file.id, "name": accepted.file.original_name, "job_id": accepted.job_id,
                         "job_url": f"/console/jobs/{accepted.job_id}"})


@router.get("/files/{file_id}/original")
def original(file_id: str, request: Request, user: User) -> Response:
    """The uploaded bytes: pictures, recordings and PDFs shown inline, everything else as a download."""
    tenant_user(user, "files")
    home = request.app.state.runtime.home
    file = own_file(home, user.tenant_id, file_id)
    kind = media_type(file.detected_type)
    inline = kind.startswith(("image/", "audio/", "video/")) or kind == "application/pdf"
    blob = home.blobs.path_for(file.sha256)
    if not blob.is_file():
        raise NotFound(f"file {file_id!r} has no stored bytes", param="file_id")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    # never HTML or SVG inline (those are attachments); PDFs keep the browser's viewer, which a sandbox blocks
    headers["Content-Security-Policy"] = "default-src 'none'" if kind == "application/pdf" else "sandbox"
    return FileResponse(blob, media_type=kind, filename=file.original_name.rsplit("/", 1)[-1],
                        content_disposition_type="inline" if inline else "attachment", headers=headers)


@router.get("/chunks/{chunk_id}/preview")
async def chunk_preview(chunk_id: str, request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    data, kind = await run_in_threadpool(preview_image, request.app.state.runtime.home, user.tenant_id, chunk_id)
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=3600",
                                                    "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------- tuning
def _number(form: dict[str, str], name: str, kind: type, errors: dict[str, str]) -> Any:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors[name] = f"{name} must be a {'whole number' if kind is int else 'number'}, got {raw!r}"
        return None


def _options(text: str, errors: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form's advanced options, one `key=value` per line: `synth.<option>` for synthesis, any other
    dotted key a recipe override (`training.seq_len=128`); values are JSON where they parse, else text."""
    overrides: dict[str, Any] = {}
    synth: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(overrides) + len(synth) >= MAX_OPTIONS:
            errors["options"] = f"at most {MAX_OPTIONS} options"
            break
        key, sep, raw = line.partition("=")
        key = key.strip()
        if not sep or not key:
            errors["options"] = f"line {number}: write key=value, got {line.strip()!r}"
            continue
        try:
            value = json.loads(raw.strip())
        except ValueError:
            value = raw.strip()
        if key.startswith("synth."):
            synth[key.removeprefix("synth.")] = value
        else:
            overrides[key] = value
    return overrides, synth


MAX_OPTIONS = 64  # as many recipe overrides as the API accepts
FIELD_OF_PARAM = {"hyperparameters.max_steps": "max_steps", "training_file": "training_file", "model": "model",
                  "method": "recipe", "corpus_version": "corpus_version"}


@router.post("/tuning", response_class=HTMLResponse)
async def start_tuning(request: Request, user: Actor) -> Response:
    tenant_user(user, "fine_tune")
    form = {k: str(v) for k, v in (await request.form()).items()}
    errors: dict[str, str] = {}
    max_steps = _number(form, "max_steps", int, errors)
    multiplier = _number(form, "learning_rate_multiplier", float, errors)
    seed = _number(form, "seed", int, errors)
    source = form.get("source", "")
    overrides, synth = _options(form.get("options", ""), errors)
    spec = FineTuningSpec(
        model=form.get("model", ""), recipe=form.get("recipe") or None, max_steps=max_steps,
        learning_rate_multiplier=multiplier, seed=seed, suffix=form.get("suffix") or None,
        training_file=source if source.startswith(("ds_", "file-")) else None,
        corpus_version=source.removeprefix("corpus:") if source.startswith("corpus:") else None,
        recipe_overrides=overrides, synth=synth)
    if not errors:
        try:
            job_id = await run_in_threadpool(create_fine_tuning_job, request.app.state.runtime, user.tenant_id, spec)
            return RedirectResponse(f"/console/tuning/{job_id}", status_code=303)
        except OwnLLMError as exc:
            param = exc.param or ("options" if overrides or synth else "form")
            errors[FIELD_OF_PARAM.get(param, "options" if param.startswith(("synth", "recipe")) else param)] = \
                exc.message
    return page(request, user, "tuning.html", status=400, form=form, errors=errors,
                **tuning_form_context(request, user))


@router.post("/tuning/{job_id}/cancel")
async def cancel_tuning(job_id: str, request: Request, user: Confirmer) -> Response:
    tenant_user(user, "fine_tune")
    cancel_job(request.app.state.runtime.home, job_id, user.tenant_id, JobKind.FINE_TUNE)
    return RedirectResponse(f"/console/tuning/{job_id}", status_code=303)


# ---------------------------------------------------------------- evaluation
@router.post("/evals", response_class=HTMLResponse)
async def start_eval(request: Request, user: Actor) -> Response:
    tenant_user(user, "fine_tune")
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    errors: dict[str, str] = {}
    questions: list[Any] = []
    for number, line in enumerate((fields.get("questions") or "").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise InvalidInput("write one JSON object per line", param="questions")
            question_from_row(row, "user", f"line {number}")
            questions.append(row)
        except (ValueError, OwnLLMError) as exc:
            errors["questions"] = f"line {number}: {getattr(exc, 'message', None) or exc}"
            break
    models = [str(m) for m in form.getlist("models")] or None
    limit = _number(fields, "limit", int, errors)
    if not errors:
        try:  # the API's own bounds: at most 8 models, 2000 questions, a limit of 1 to 2000
            EvalCreate.model_validate({"models": models, "dataset": fields.get("dataset") or None,
                                       "questions": questions, "limit": limit})
        except ValidationError as exc:
            first = exc.errors()[0]
            errors[str(first["loc"][0]) if first.get("loc") else "questions"] = str(first.get("msg"))
    if not errors:
        try:
            job_id = await run_in_threadpool(create_eval_job, request.app.state.runtime, user.tenant_id, models,
                                             fields.get("dataset") or None, questions, limit)
            return RedirectResponse(f"/console/evals/{job_id}", status_code=303)
        except OwnLLMError as exc:
            errors[exc.param if exc.param in ("models", "dataset", "limit") else "questions"] = exc.message
    return page(request, user, "evals.html", status=400, form=fields, errors=errors,
                **eval_form_context(request, user))


@router.get("/evals/{eval_id}/charts/{name}")
def eval_chart(eval_id: str, name: str, request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    _, _, folder = eval_report(request.app.state.runtime.home, user.tenant_id, eval_id)
    chart = folder / name if folder else None
    if chart is None or not name.endswith(".png") or "/" in name or not chart.is_file():
        raise NotFound(f"eval {eval_id} has no chart {name!r}", param="name")
    return FileResponse(chart, media_type="image/png", headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- models
@router.post("/models/export")
async def export(request: Request, user: Actor, model: Annotated[str, Form()],
                 quant: Annotated[str, Form()] = "q8_0") -> Response:
    tenant_user(user, "fine_tune")
    job_id = await run_in_threadpool(create_export_job, request.app.state.runtime, user.tenant_id, model, quant)
    return RedirectResponse(f"/console/jobs/{job_id}", status_code=303)


@router.get("/models/download")
def download(request: Request, user: User, model: str, kind: str = "model") -> Response:
    tenant_user(user, "fine_tune")
    path = export_path(request.app.state.runtime.home, user.tenant_id, model, kind)
    safe = model.replace(":", "_").replace("/", "_")
    return FileResponse(path, media_type="application/octet-stream", filename=f"{safe}-{path.name}",
                        headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- playground
@router.post("/playground/chat")
async def chat(request: Request, user: Actor) -> Response:
    """The playground's streamed answer: exactly the API's chat completion (same preparation, stream,
    citations and metering), asked on the signed-in tenant's behalf."""
    tenant_user(user, "inference")
    try:
        sent = await request.json()
        if not isinstance(sent, dict):
            raise ValueError("the body must be a JSON object")
        body = ChatCompletionRequest.model_validate({**sent, "stream": True})
    except ValueError as exc:
        raise InvalidInput(f"chat request: {exc}", param="body") from exc
    return await chat_completions(body, request, user.owner, request.app.state.runtime)


# ---------------------------------------------------------------- apps
def _field_value(field: dict[str, Any], raw: str) -> Any:
    if field["type"] == "array":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if field["type"] in ("integer", "number") and raw.strip():
        try:
            return int(raw) if field["type"] == "integer" else float(raw)
        except ValueError as exc:
            raise InvalidInput(f"{field['name']} must be a number, got {raw!r}", param=field["name"]) from exc
    if field["type"] == "boolean":
        return raw.lower() in ("on", "true", "1", "yes")
    return raw


@router.post("/apps/{name}", response_class=HTMLResponse)
async def run_app_form(name: str, request: Request, user: Actor) -> Response:
    tenant_user(user, "inference")
    runtime = request.app.state.runtime
    spec = find_app(runtime.home, user.tenant_id, name)
    form = await request.form()
    inputs: dict[str, Any] = {}
    files: dict[str, AppFile] = {}
    errors: dict[str, str] = {}
    try:
        for field in app_fields(spec):
            raw = str(form.get(field["name"]) or "")
            if raw.strip() or field["type"] == "boolean":
                inputs[field["name"]] = _field_value(field, raw)
        for slot in spec.files:
            upload = form.get(slot)
            if isinstance(upload, UploadFile) and upload.filename:
                files[slot] = AppFile(upload.filename, await upload.read())
        started = time.monotonic()
        run_id, result = await run_in_threadpool(run_and_record, runtime, user.tenant_id, name, inputs, files,
                                                 str(form.get("model") or "") or None,
                                                 form.get("knowledge") is not None)
    except OwnLLMError as exc:
        errors[exc.param or "form"] = exc.message
        from ownllm.services.apps import app_runs

        return page(request, user, "app.html", status=400, spec=spec, fields=app_fields(spec), errors=errors,
                    form={k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)},
                    runs=app_runs(runtime.home, user.tenant_id, name, limit=10))
    first = started + result.first_token_ms / 1000 if result.first_token_ms is not None else None
    spent(request, result.model, result.prompt_tokens, result.completion_tokens, first)
    return RedirectResponse(f"/console/apps/runs/{run_id}", status_code=303)


@router.get("/apps/runs/{run_id}/page")
def app_built_page(run_id: str, request: Request, user: User) -> Response:
    """The page an app built (the sketch's ordering app), served sandboxed: its script runs in an opaque
    origin that cannot read the console's cookies or pages."""
    from ownllm.services.apps import app_run

    tenant_user(user, "inference")
    built = app_page(app_run(request.app.state.runtime.home, user.tenant_id, run_id))
    if not isinstance(built, str):
        raise InvalidInput(f"app run {run_id} built no page", param="run_id")
    return HTMLResponse(built, headers={"Content-Security-Policy": "sandbox allow-scripts; default-src 'none'; "
                                                                   "script-src 'unsafe-inline'; "
                                                                   "style-src 'unsafe-inline'; img-src data:"})

