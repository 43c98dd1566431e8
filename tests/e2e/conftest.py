"""A real `ownllm serve` process on a free port over a home with two tenants.

acme has ingested the sample company; globex has its own one-document corpus; acme
also holds a revoked key. Tests talk to it over HTTP only.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ownllm.ingest.pipeline import ingest_paths
from ownllm.store.keys import create_key, revoke_key
from ownllm.store.tenants import create_tenant
from tests.conftest import IngestedHome, server_env


@dataclass
class Server:
    base_url: str
    acme_key: str
    acme_version_id: str
    globex_key: str
    globex_version_id: str
    revoked_key: str
    acme_dropbox: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen | None = None, log: Callable[[], str] = str,
                  path: str = "/health", timeout_s: float = 60) -> None:
    """Poll a starting `ownllm serve` until `path` answers 200; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"ownllm serve at {base_url} did not start:\n{log()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def server(acme: IngestedHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    globex = create_tenant(acme.home, "globex")
    _, globex_key = create_key(acme.home, globex.id)
    folder = tmp_path_factory.mktemp("globex")
    (folder / "globex_handbook.md").write_text("# Globex handbook\n\nGlobex staff get 31 days of leave.\n")
    globex_report = ingest_paths(acme.home, globex.id, [folder])
    revoked, revoked_key = create_key(acme.home, acme.tenant_id, "to-revoke")
    revoke_key(acme.home, revoked.id)

    port = _free_port()
    env = server_env(acme.home)
    log = open(tmp_path_factory.mktemp("server") / "server.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "ownllm", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(base_url, process, lambda: (log.seek(0), log.read())[1])
    try:
        yield Server(base_url, acme.api_key, acme.report.version_id or "", globex_key,
                     globex_report.version_id or "", revoked_key, acme.company.dropbox)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
