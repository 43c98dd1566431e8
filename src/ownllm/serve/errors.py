"""Every error leaves the API in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.

OpenAI clients parse that body to raise typed exceptions, so validation failures and crashes are
translated too. An unexpected exception becomes a 500 *without* closing the connection (the
`CatchAll` middleware answers it instead of letting it reach the server), so a client's next
pooled request still works.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ownllm.errors import Overloaded, OwnLLMError, RateLimited

log = logging.getLogger("ownllm.serve")

_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
          404: "invalid_request_error", 405: "invalid_request_error", 409: "invalid_request_error",
          413: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
          500: "server_error", 503: "server_error"}


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status: int, message: str, *, type_: str | None = None, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = error_body(message, type_ or _TYPES.get(status, "invalid_request_error"), param, code)
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(exc: OwnLLMError) -> JSONResponse:
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited | Overloaded):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return error_response(exc.status, exc.message, type_=exc.type, param=exc.param, code=exc.code,
                          headers=headers or None)


def _validation_param(error: dict[str, Any]) -> str | None:
    parts = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path")]
    # pydantic names union members (str, list[TextPart]) in locations; they mean nothing to a client
    parts = [p for p in parts if not p.startswith(("list[", "function-", "str", "int", "float", "dict["))]
    return ".".join(parts) or None


def _console_page(request: Request, status: int, message: str) -> Response | None:
    """Under /console a person is reading: the console renders errors as pages (set by its `mount`)."""
    render = getattr(request.app.state, "console_error", None)
    if render is None or not request.url.path.startswith("/console"):
        return None
    return render(request, status, message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OwnLLMError)
    async def _domain(request: Request, exc: OwnLLMError) -> Response:
        page = _console_page(request, exc.status, exc.message)
        return page if page is not None else domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        param = _validation_param(first)
        message = str(first.get("msg", "invalid body")).removeprefix("Value error, ")
        if param:
            message = f"{param}: {message}"
        page = _console_page(request, 400, message)
        if page is not None:
            return page
        code = "string_above_max_length" if first.get("type") == "string_too_long" else "invalid_value"
        return error_response(400, message, param=param, code=code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        page = _console_page(request, exc.status_code, str(exc.detail))
        if page is not None:
            return page
        code = "not_found" if exc.status_code == 404 else None
        return error_response(exc.status_code, str(exc.detail), code=code)


class CatchAll:
    """Answer any exception that escaped the app with a 500 in OpenAI's shape, keeping the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except OwnLLMError as exc:  # raised outside a route (a body too large while streaming in)
            if not started:
                await domain_error_response(exc)(scope, receive, send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = error_response(500, "The server had an error while processing your request.",
                                          code="internal_error")
                await response(scope, receive, send)
