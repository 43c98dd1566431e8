"""What routes receive instead of reading `request.app.state` themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ownllm.services.runtime import Runtime
from ownllm.store.home import Home


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_home(request: Request) -> Home:
    return request.app.state.runtime.home


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
HomeDep = Annotated[Home, Depends(get_home)]
