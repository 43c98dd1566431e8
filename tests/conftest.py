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

# Tests name the models they use: the defaults would otherwise follow whichever stronger models happen to be
# installed (`make models`). The tests of the defaults themselves construct their own Settings.
os.environ.setdefault("OWNLLM_DEFAULT_READER", "smollm2-135m-instruct")
os.environ.setdefault("OWNLLM_DEFAULT_TEACHER", "smollm2-135m-instruct")


def make_home(root: Path) -> Home:
    return open_home(Settings(home=root))


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
