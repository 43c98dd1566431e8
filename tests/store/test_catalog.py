"""Catalog and blob store: migrations, round trips, content addressing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from ownllm.config import Settings
from ownllm.store.blobs import BlobStore
from ownllm.store.catalog import Base, File, Tenant
from ownllm.store.home import Home, open_home
from ownllm.store.migrate import upgrade_to_head
from tests.conftest import ON_POSTGRES, home_settings


def _empty_database(tmp_path: Path, name: str) -> str:
    """An empty catalog database of the kind this run tests (SQLite, or PostgreSQL in that mode)."""
    return home_settings(tmp_path / name).catalog_url if ON_POSTGRES else f"sqlite:///{tmp_path / name}.db"


def test_migrations_create_every_table_of_the_models_on_an_empty_database(tmp_path: Path) -> None:
    url = _empty_database(tmp_path, "empty")
    upgrade_to_head(url)
    inspector = inspect(create_engine(url))
    tables = set(inspector.get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    for name, table in Base.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    url = _empty_database(tmp_path, "twice")
    upgrade_to_head(url)
    upgrade_to_head(url)  # a second run finds nothing to do and must not fail


def test_sqlite_catalog_runs_in_wal_mode(tmp_path: Path) -> None:
    home = open_home(Settings(home=tmp_path / "sqlite-home"))  # SQLite whatever the run's database
    with home.catalog.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    home.close()


def test_rows_round_trip(home: Home) -> None:
    with home.catalog.session() as session:
        tenant = Tenant(name="roundtrip")
        session.add(tenant)
        session.flush()
        session.add(File(tenant_id=tenant.id, sha256="a" * 64, size=3, original_name="x.txt",
                         detected_type="text", error="x.txt: bad"))
    with home.catalog.session() as session:
        file = session.query(File).one()
        assert (file.original_name, file.size, file.status, file.error) == ("x.txt", 3, "received", "x.txt: bad")
        assert file.id.startswith("file-")


def test_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    first = store.put_bytes(b"hello world")
    second = store.put_bytes(b"hello world")
    source = tmp_path / "copy.bin"
    source.write_bytes(b"hello world")
    third, size = store.put_file(source)
    assert first == second == third
    assert size == 11
    stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert store.read_bytes(first) == b"hello world"
    assert stored[0] == store.path_for(first)
    assert stored[0].parent.name == first[:2]


def test_different_bytes_are_different_blobs(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    assert store.put_bytes(b"a") != store.put_bytes(b"b")
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 2


def test_blob_names_are_validated(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    try:
        store.path_for("../../etc/passwd")
    except ValueError as exc:
        assert "sha256" in str(exc)
    else:
        raise AssertionError("a non-hex blob name must be refused")


def test_database_url_moves_the_catalog_but_not_the_blobs(tmp_path: Path, monkeypatch) -> None:
    from ownllm.config import get_settings
    from ownllm.store.home import open_home

    monkeypatch.setenv("OWNLLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OWNLLM_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    get_settings.cache_clear()
    try:
        opened = open_home()
        opened.blobs.put_bytes(b"x")
        opened.close()
    finally:
        get_settings.cache_clear()
    assert (tmp_path / "elsewhere.db").exists()
    assert not (tmp_path / "home" / "catalog.db").exists()
    assert any((tmp_path / "home" / "blobs").rglob("*"))
