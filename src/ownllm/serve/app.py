"""The FastAPI application: one home (catalog + blobs) per process, OpenAI-shaped everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ownllm import __version__
from ownllm.config import Settings
from ownllm.serve.errors import install_error_handlers
from ownllm.serve.evals_api import router as evals_router
from ownllm.serve.files_api import router as files_router
from ownllm.serve.fine_tuning_api import router as fine_tuning_router
from ownllm.serve.openai_api import router
from ownllm.store.home import open_home


def create_app(settings: Settings | None = None) -> FastAPI:
    home = open_home(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        home.close()

    app = FastAPI(title="ownllm", version=__version__, lifespan=lifespan)
    app.state.home = home
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(files_router)
    app.include_router(fine_tuning_router)
    app.include_router(evals_router)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
