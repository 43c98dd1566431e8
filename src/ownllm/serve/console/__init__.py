"""The web console at /console: server-rendered pages over the same services the API calls.

Pages are Jinja templates (autoescaped); the one small script (static/console.js, written here) adds
drag-and-drop uploads with progress, live job panels over server-sent events and streamed chat. Every
asset is served from this package, so the console works with no network beyond this server.
"""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ownllm.serve.console import actions, live, pages
from ownllm.serve.console.i18n import translate
from ownllm.serve.console.render import page
from ownllm.serve.console.session import SignedOut, current_user, language


def _error(request: Request, status: int, message: str) -> Response:
    if "application/json" in request.headers.get("accept", "") or request.url.path.endswith("/live"):
        return JSONResponse({"error": {"message": message}}, status_code=status)
    try:
        user = current_user(request)
    except SignedOut:
        user = None
    title = {404: "not_found_title"}.get(status, "error")
    lang = user.lang if user else language(request)
    return page(request, user, "error.html", status=status, lang=lang, title=translate(title, lang), message=message)


async def _signed_out(request: Request, _: SignedOut) -> Response:
    if request.method == "GET" and "application/json" not in request.headers.get("accept", ""):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)
    return JSONResponse({"error": {"message": "sign in first"}}, status_code=401)


def mount(app: FastAPI) -> None:
    app.state.console_error = _error
    app.add_exception_handler(SignedOut, _signed_out)  # type: ignore[arg-type]
    app.mount("/console/static", StaticFiles(directory=str(files("ownllm.serve.console") / "static")),
              name="console-static")
    for module in (pages, actions, live):
        app.include_router(module.router)
