"""A throwaway PostgreSQL server for tests: `initdb` + `pg_ctl` from Debian's `postgresql` package, in a
temporary folder, on a free loopback port, trust authentication, durability off (it dies with the tests).

`initdb` refuses to run as root; as root the cluster is run by the `postgres` system user the package
creates. Each test home gets a database of its own (`new_database`), so homes never share rows.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's initdb was not found: install Debian's `postgresql` (`make system`)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class PostgresServer:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://ownllm@127.0.0.1:{self.port}/postgres"

    def new_database(self, prefix: str = "ownllm") -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=ownllm dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://ownllm@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    binaries = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="ownllm-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "ownllm", "-A", "trust",
                                    "-E", "UTF8", "--locale=C", "--no-sync"]),
                   check=True, capture_output=True)
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200")
    log = root / "server.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
                                    "-w", "-t", "60", "start"]), check=True, capture_output=True)
    try:
        yield PostgresServer(root, port)
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
