"""Bearer-key authentication: every /v1 request resolves to exactly one tenant, or is refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ownllm.errors import Unauthenticated
from ownllm.store.home import Home
from ownllm.store.keys import KeyOwner, authenticate


def require_key(request: Request) -> KeyOwner:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key"
        )
    home: Home = request.app.state.home
    return authenticate(home, token.strip())


Owner = Annotated[KeyOwner, Depends(require_key)]
