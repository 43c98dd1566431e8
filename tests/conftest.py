"""Shared fixtures: isolated homes, the generated sample company, and an ingested catalog.

Expensive things (generating the sample company, ingesting it) happen once per session;
tests that change state get their own fresh home.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ownllm.config import Settings
from ownllm.ingest.pipeline import IngestReport, ingest_paths
from ownllm.samples.generate import SampleCompany, generate
from ownllm.store.home import Home, open_home
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant
from tests.tiny_model import qa_file, tiny_base  # noqa: F401  (one tiny model for the tuning and Ray tests)

# Tests name the models they use: the defaults would otherwise follow whichever stronger models happen to be
# installed (`make models`). The tests of the defaults themselves construct their own Settings.
os.environ.setdefault("OWNLLM_DEFAULT_READER", "smollm2-135m-instruct")
os.environ.setdefault("OWNLLM_DEFAULT_TEACHER", "smollm2-135m-instruct")


# `OWNLLM_TEST_DATABASE=postgresql` runs the same tests with every home's catalog in PostgreSQL: one
# throwaway server for the session (tests/pgserver.py), a fresh database per home. `make test` runs the
# store, jobs and e2e API suites this way after the whole suite on SQLite.
ON_POSTGRES = os.environ.get("OWNLLM_TEST_DATABASE", "sqlite") == "postgresql"
_postgres: list = []  # the session's server, started by the first home that needs it


def home_settings(root: Path, **overrides: object) -> Settings:
    """Settings for a test home: SQLite inside it, or a new PostgreSQL database in PostgreSQL mode."""
    if ON_POSTGRES and "database_url" not in overrides:
        if not _postgres:
            from tests.pgserver import postgres_server

            context = postgres_server()
            _postgres.append((context, context.__enter__()))
        overrides["database_url"] = _postgres[0][1].new_database()
    return Settings(home=root, **overrides)  # type: ignore[arg-type]


def server_env(home: Home) -> dict[str, str]:
    """The environment an `ownllm serve` or worker subprocess needs to open this home."""
    env = {**os.environ, "OWNLLM_HOME": str(home.root)}
    if home.settings.database_url:
        env["OWNLLM_DATABASE_URL"] = home.settings.database_url
    return env


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _postgres:
        context, _ = _postgres.pop()
        context.__exit__(None, None, None)


def make_home(root: Path, **overrides: object) -> Home:
    return open_home(home_settings(root, **overrides))


def ingest_shared_files(tmp_path_factory: pytest.TempPathFactory, source: Path, names: list[str],
                        label: str) -> tuple[Home, str, IngestReport]:
    """A fresh home and tenant that ingested `names` from a shared test-data folder (linked, never copied)."""
    home = make_home(tmp_path_factory.mktemp(f"{label}-home"))
    tenant = create_tenant(home, label)
    folder = tmp_path_factory.mktemp(label)
    for name in names:
        (folder / name).symlink_to(source / name)
    return home, tenant.id, ingest_paths(home, tenant.id, [folder])


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    opened = make_home(tmp_path / "home")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def sample_company(tmp_path_factory: pytest.TempPathFactory) -> SampleCompany:
    return generate(tmp_path_factory.mktemp("company"))


@dataclass
class IngestedHome:
    home: Home
    tenant_id: str
    api_key: str
    report: IngestReport
    company: SampleCompany


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory, sample_company: SampleCompany) -> Iterator[IngestedHome]:
    """A home where tenant `acme` has ingested the sample company (read-only for tests)."""
    opened = make_home(tmp_path_factory.mktemp("acme-home"))
    tenant = create_tenant(opened, "acme")
    _, key = create_key(opened, tenant.id)
    report = ingest_paths(opened, tenant.id, [sample_company.dropbox])
    yield IngestedHome(opened, tenant.id, key, report, sample_company)
    opened.close()
