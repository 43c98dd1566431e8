"""Domain errors raised by the service layer.

They carry what an API needs to answer in OpenAI's error shape (status, type, code, param)
without the services knowing anything about HTTP; the CLI prints their message.
"""

from __future__ import annotations


class OwnLLMError(Exception):
    status = 400
    type = "invalid_request_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidInput(OwnLLMError):
    status = 400
    code = "invalid_value"


class Unauthenticated(OwnLLMError):
    status = 401
    code = "invalid_api_key"


class Forbidden(OwnLLMError):
    status = 403
    type = "permission_error"
    code = "forbidden"


class NotFound(OwnLLMError):
    status = 404
    code = "not_found"


class Conflict(OwnLLMError):
    status = 409
    code = "conflict"


class PayloadTooLarge(OwnLLMError):
    status = 413
    code = "payload_too_large"


class RateLimited(OwnLLMError):
    """Too many requests, tokens or jobs; `retry_after` seconds tell the client when to come back."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float = 1.0, param: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, param=param, code=code)
        self.retry_after = retry_after


class Overloaded(OwnLLMError):
    """The server is at capacity right now (a full engine queue); the request may be retried."""

    status = 503
    type = "server_error"
    code = "server_overloaded"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Cancelled(OwnLLMError):
    """Long work stopped because someone cancelled its job; raised between steps."""

    status = 409
    code = "cancelled"
