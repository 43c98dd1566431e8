"""Request-level caps applied before any route runs: the body size (413 from the Content-Length
header, or as soon as a streamed body passes the cap: an upload is never read past its limit)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ownllm.config import Settings
from ownllm.errors import PayloadTooLarge
from ownllm.serve.errors import domain_error_response

MULTIPART_SLACK = 64 << 10  # form boundaries and fields around an uploaded file


def body_limit(settings: Settings, scope: Scope) -> int:
    """The most bytes a request's body may have: an upload's cap for multipart forms, else the JSON cap."""
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    if content_type.startswith(b"multipart/"):
        return settings.max_upload_bytes + MULTIPART_SLACK
    return settings.max_request_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await domain_error_response(too_large(limit))(scope, receive, send)
            return
        seen, exceeded, replaced = 0, False, False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise too_large(limit)
            return message

        async def answer(message: Message) -> None:
            """Once the body passed the cap, whatever the app makes of the broken body becomes the 413."""
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await domain_error_response(too_large(limit))(scope, receive, send)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
            if not replaced:
                await domain_error_response(too_large(limit))(scope, receive, send)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is over this server's {limit}-byte limit", param="body",
                           code="request_too_large")
