"""The API in-process over real HTTP (uvicorn on a free port in a thread) with the fake engine and
thread-mode jobs: plumbing tests that need no model weights. Two tenants, acme and globex."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from ownllm.config import Settings
from ownllm.inference.pool import EnginePool, set_shared_pool
from ownllm.store.home import Home, open_home
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant
from tests.fakes import fake_pool

ADMIN_KEY = "admin-" + "s3cret" * 8


@dataclass
class Live:
    url: str
    home: Home
    pool: EnginePool
    acme: str  # API keys
    globex: str
    acme_id: str
    globex_id: str
    app: object = None

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.acme}"}

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_KEY}"}

    def flush_usage(self) -> None:
        self.app.state.usage_writer.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_live(root: Path, delay_s: float = 0.0, **overrides: object) -> tuple[Live, uvicorn.Server, threading.Thread]:
    from ownllm.serve.app import create_app

    settings = Settings(home=root, **overrides)  # type: ignore[arg-type]
    home = open_home(settings)
    acme, globex = create_tenant(home, "acme"), create_tenant(home, "globex")
    _, acme_key = create_key(home, acme.id)
    _, globex_key = create_key(home, globex.id)
    pool = fake_pool(delay_s=delay_s, queue_size=settings.engine_queue)
    set_shared_pool(pool)  # thread-mode jobs (batches) in this process use the fake engine too
    app = create_app(settings, pool=pool, job_runner="thread")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the in-process server did not start"
        time.sleep(0.05)
    live = Live(f"http://127.0.0.1:{port}", home, pool, acme_key, globex_key, acme.id, globex.id, app)
    return live, server, thread


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    found, server, thread = start_live(tmp_path / "home", max_upload_bytes=64 * 1024, max_request_bytes=256 * 1024,
                                       max_query_chars=500, max_message_chars=20_000, engine_queue=8,
                                       admin_key=ADMIN_KEY)
    yield found
    server.should_exit = True
    thread.join(10)
    set_shared_pool(None)


def wait_job(live: Live, job_id: str, key: str | None = None, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(f"{live.url}/v1/jobs/{job_id}", headers=live.auth(key), timeout=10).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
