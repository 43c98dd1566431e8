"""The console's pages (GET): each reads through the service layer for the signed-in tenant and renders
one template. Nothing here decides a rule; an id of another tenant's object is the services' `NotFound`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ownllm.apps.spec import AppSpec
from ownllm.corpus.versions import diff_versions, list_versions, summarize_version
from ownllm.errors import Forbidden, OwnLLMError
from ownllm.jobs.tracker import get_job, job_events, list_jobs
from ownllm.models.hub import SHIPPED_MODELS, TUNABLE
from ownllm.retrieval.search import SearchFilters, search
from ownllm.serve.console.render import page
from ownllm.serve.console.session import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    ConsoleUser,
    SignedOut,
    current_user,
    language,
    login_csrf,
)
from ownllm.services.apps import app_catalog, app_page, app_run, app_runs, find_app
from ownllm.services.browse import (
    chunk_view,
    dataset_page,
    document_view,
    eval_report,
    file_count,
    file_rows,
    model_rows,
    tuning_view,
)
from ownllm.services.previews import describe_preview
from ownllm.services.usage import cost_report
from ownllm.store.catalog import Job
from ownllm.store.statuses import EventType, JobKind
from ownllm.store.tenants import list_tenants
from ownllm.store.usage import usage_summary
from ownllm.synth.dataset import KINDS, list_datasets
from ownllm.tune.recipe import available_recipes

router = APIRouter(prefix="/console", include_in_schema=False)
User = Annotated[ConsoleUser, Depends(current_user)]


def tenant_user(user: ConsoleUser, scope: str | None = None) -> ConsoleUser:
    """Tenant pages need a tenant (the admin key sees the tenants list and usage only), and the scope the API
    asks for the same data: files for the data space, inference for the corpus and chat, fine_tune for
    training data, tuning, evaluation and model files."""
    if user.is_admin:
        raise Forbidden("signed in with the admin key: it has no data space; see Tenants")
    if scope is not None:
        user.require(scope)
    return user


def safe_next(target: str | None) -> str:
    """Only a console path may follow sign-in or a language switch (no open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    token = login_csrf(request)
    response = page(request, None, "login.html", lang=language(request), login_csrf=token, next=safe_next(next))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console")
    return response


@router.get("/language")
def switch_language(to: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if to in ("en", "zh"):  # a link, not a form: it changes only how pages are worded
        response.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, samesite="strict", path="/console")
    return response


@router.get("/", response_class=HTMLResponse)
@router.get("", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    try:
        user = current_user(request)
    except SignedOut:
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse("/console/admin" if user.is_admin else "/console/data", status_code=303)


# ---------------------------------------------------------------- data space
@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, user: User) -> Response:
    tenant_user(user, "files")
    jobs = list_jobs(request.app.state.runtime.home, user.tenant_id, JobKind.INGEST)[:10]
    home = request.app.state.runtime.home
    return page(request, user, "data.html", files=file_rows(home, user.tenant_id, limit=200),
                total=file_count(home, user.tenant_id), jobs=jobs)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request, user: User) -> Response:
    tenant_user(user)
    job = own_job(request, user, job_id)
    if job.kind == JobKind.FINE_TUNE:
        return RedirectResponse(f"/console/tuning/{job_id}", status_code=303)
    if job.kind == JobKind.EVAL:
        return RedirectResponse(f"/console/evals/{job_id}", status_code=303)
    return page(request, user, "job.html", **job_panel_context(request, user, job.id))


JOB_SCOPES = {JobKind.INGEST: "files", JobKind.BATCH: "inference"}  # tuning, eval, synth, export: fine_tune


def own_job(request: Request, user: ConsoleUser, job_id: str) -> Job:
    """The tenant's job (another tenant's is not found), if the key has the scope its kind needs."""
    job = get_job(request.app.state.runtime.home, job_id, user.tenant_id)
    user.require(JOB_SCOPES.get(job.kind, "fine_tune"))
    return job


def job_panel_context(request: Request, user: ConsoleUser, job_id: str) -> dict[str, Any]:
    """What a job's live panel shows: the job row, and for an ingest the files it touched."""
    home = request.app.state.runtime.home
    job = own_job(request, user, job_id)
    context: dict[str, Any] = {"job": job, "problems": [e.data for e in job_events(home, job_id, EventType.FILE)]}
    if job.kind == JobKind.INGEST:
        context["files"] = file_rows(home, user.tenant_id, since=job.created_at, limit=200)
    if job.kind == JobKind.FINE_TUNE:
        context["view"] = tuning_view(home, user.tenant_id, job_id)
    return context


# ---------------------------------------------------------------- corpus
@router.get("/corpus", response_class=HTMLResponse)
def corpus_page(request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    versions = list_versions(request.app.state.runtime.home, user.tenant_id)
    return page(request, user, "corpus.html", versions=versions)


@router.get("/corpus/diff", response_class=HTMLResponse)
def corpus_diff(request: Request, user: User, old: str, new: str) -> Response:
    tenant_user(user, "inference")
    home = request.app.state.runtime.home
    diff = diff_versions(home, user.tenant_id, old, new)
    return page(request, user, "diff.html", diff=diff, old=old, new=new,
                versions=list_versions(home, user.tenant_id))


@router.get("/corpus/{number}", response_class=HTMLResponse)
def version_page(number: Annotated[int, FastApiPath(ge=1, le=10**9)], request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    summary = summarize_version(request.app.state.runtime.home, user.tenant_id, number)
    return page(request, user, "version.html", summary=summary)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(document_id: str, request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    view = document_view(request.app.state.runtime.home, user.tenant_id, document_id)
    return page(request, user, "document.html", view=view)


@router.get("/chunks/{chunk_id}", response_class=HTMLResponse)
def chunk_page(chunk_id: str, request: Request, user: User, q: str = "") -> Response:
    tenant_user(user, "inference")
    home = request.app.state.runtime.home
    view = chunk_view(home, user.tenant_id, chunk_id)
    before = view.text[max(0, view.chunk.char_start - 600):view.chunk.char_start]
    after = view.text[view.chunk.char_end:view.chunk.char_end + 600]
    found = view.text[view.chunk.char_start:view.chunk.char_end] or view.chunk.text
    return page(request, user, "chunk.html", view=view, before=before, found=found, after=after, q=q,
                preview=describe_preview(home, view.chunk, view.file))


# ---------------------------------------------------------------- search
@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, user: User, q: str = "", mode: str = "hybrid", type: str = "",
                      lang: str = "", top_k: Annotated[int, Query(ge=1, le=50)] = 8) -> Response:
    tenant_user(user, "inference")
    home = request.app.state.runtime.home
    hits, error = [], None
    if q.strip():
        filters = SearchFilters(tuple(t for t in type.split(",") if t), None, lang or None)
        try:
            hits = await run_in_threadpool(search, home, user.tenant_id, q, top_k=top_k, mode=mode,  # type: ignore[arg-type]
                                           filters=filters)
        except OwnLLMError as exc:
            error = exc.message
    return page(request, user, "search.html", q=q, mode=mode, type=type, lang_filter=lang, top_k=top_k, hits=hits,
                error=error)


# ---------------------------------------------------------------- training data
@router.get("/training", response_class=HTMLResponse)
def training_page(request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    datasets = list(reversed(list_datasets(request.app.state.runtime.home, user.tenant_id)))
    return page(request, user, "training.html", datasets=datasets)


@router.get("/training/{dataset_id}", response_class=HTMLResponse)
def dataset_view(dataset_id: str, request: Request, user: User, kind: str = "sft", n: int = 1) -> Response:
    tenant_user(user, "fine_tune")
    records = dataset_page(request.app.state.runtime.home, user.tenant_id, dataset_id, kind, n)
    return page(request, user, "dataset.html", page_=records, kinds=KINDS)


# ---------------------------------------------------------------- tuning
def tuning_form_context(request: Request, user: ConsoleUser) -> dict[str, Any]:
    home = request.app.state.runtime.home
    return {"jobs": list_jobs(home, user.tenant_id, JobKind.FINE_TUNE)[:20],
            "bases": [m.id for m in SHIPPED_MODELS.values() if TUNABLE in m.roles and m.installed],
            "recipes": available_recipes(), "versions": list_versions(home, user.tenant_id),
            "datasets": list(reversed(list_datasets(home, user.tenant_id)))}


@router.get("/tuning", response_class=HTMLResponse)
def tuning_page(request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    return page(request, user, "tuning.html", form={}, errors={}, **tuning_form_context(request, user))


@router.get("/tuning/{job_id}", response_class=HTMLResponse)
def tuning_job_page(job_id: str, request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    view = tuning_view(request.app.state.runtime.home, user.tenant_id, job_id)
    return page(request, user, "tuning_job.html", job=view.job, view=view)


# ---------------------------------------------------------------- evaluation
def eval_form_context(request: Request, user: ConsoleUser) -> dict[str, Any]:
    home = request.app.state.runtime.home
    models = [row for row in model_rows(home, user.tenant_id) if row.status != "installable"]
    return {"jobs": list_jobs(home, user.tenant_id, JobKind.EVAL)[:30], "models": models,
            "datasets": list(reversed(list_datasets(home, user.tenant_id)))}


@router.get("/evals", response_class=HTMLResponse)
def evals_page(request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    return page(request, user, "evals.html", form={}, errors={}, **eval_form_context(request, user))


@router.get("/evals/compare", response_class=HTMLResponse)
def compare_page(request: Request, user: User, a: str, b: str) -> Response:
    tenant_user(user, "fine_tune")
    home = request.app.state.runtime.home
    reports = [eval_report(home, user.tenant_id, ref) for ref in (a, b)]
    return page(request, user, "compare.html", reports=reports)


@router.get("/evals/{eval_id}", response_class=HTMLResponse)
def eval_page(eval_id: str, request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    job, report, folder = eval_report(request.app.state.runtime.home, user.tenant_id, eval_id)
    charts = sorted(p.name for p in folder.glob("*.png")) if folder else []
    others = [j for j in list_jobs(request.app.state.runtime.home, user.tenant_id, JobKind.EVAL)
              if j.id != eval_id and (j.result or {}).get("report")]
    return page(request, user, "eval.html", job=job, report=report, charts=charts, others=others)


# ---------------------------------------------------------------- models
@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, user: User) -> Response:
    tenant_user(user, "fine_tune")
    home = request.app.state.runtime.home
    return page(request, user, "models.html", models=model_rows(home, user.tenant_id),
                exports=list_jobs(home, user.tenant_id, JobKind.EXPORT)[:10])


# ---------------------------------------------------------------- playground
@router.get("/playground", response_class=HTMLResponse)
def playground_page(request: Request, user: User, model: str = "", compare: str = "") -> Response:
    tenant_user(user, "inference")
    models = [row for row in model_rows(request.app.state.runtime.home, user.tenant_id)
              if row.status == "installed" or (row.kind == "tuned" and row.exports)]
    return page(request, user, "playground.html", models=models, model=model, compare=compare)


# ---------------------------------------------------------------- apps
@router.get("/apps", response_class=HTMLResponse)
def apps_page(request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    home = request.app.state.runtime.home
    return page(request, user, "apps.html", apps=app_catalog(home, user.tenant_id),
                runs=app_runs(home, user.tenant_id, limit=20))


def app_fields(spec: AppSpec) -> list[dict[str, Any]]:
    """The form fields for an app's JSON input schema (top-level properties; arrays as one line each)."""
    schema = spec.inputs or {}
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}  # `true` (anything goes) is a free text field
        kind = prop.get("type", "string")
        out.append({"name": name, "type": kind, "required": name in required, "enum": prop.get("enum"),
                    "description": prop.get("description", ""), "long": kind == "array" or
                    (kind == "string" and (prop.get("maxLength") or 0) > 200)})
    return out


@router.get("/apps/runs/{run_id}", response_class=HTMLResponse)
def app_run_page(run_id: str, request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    run = app_run(request.app.state.runtime.home, user.tenant_id, run_id)
    return page(request, user, "app_run.html", run=run, built=app_page(run) is not None)


@router.get("/apps/{name}", response_class=HTMLResponse)
def app_form_page(name: str, request: Request, user: User) -> Response:
    tenant_user(user, "inference")
    home = request.app.state.runtime.home
    spec = find_app(home, user.tenant_id, name)
    return page(request, user, "app.html", spec=spec, fields=app_fields(spec), errors={},
                runs=app_runs(home, user.tenant_id, name, limit=10))


# ---------------------------------------------------------------- usage and admin
def usage_context(request: Request, tenant_id: str | None) -> dict[str, Any]:
    home = request.app.state.runtime.home
    days = usage_summary(home, tenant_id, "day", 30)
    return {"days": days, "by_model": usage_summary(home, tenant_id, "model", 30),
            "cost": cost_report(home, tenant_id, 30)}


@router.get("/usage", response_class=HTMLResponse)
def usage_page(request: Request, user: User) -> Response:
    tenant_user(user)
    return page(request, user, "usage.html", **usage_context(request, user.tenant_id))


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: User) -> Response:
    if not user.is_admin:
        raise Forbidden("the tenants list needs the admin key")
    home = request.app.state.runtime.home
    return page(request, user, "admin.html", tenants=list_tenants(home),
                by_tenant=usage_summary(home, None, "tenant", 30), **usage_context(request, None))
