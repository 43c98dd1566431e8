"""Version composition under concurrency: every concurrent change lands in the latest version."""

from __future__ import annotations

import threading

from sqlalchemy import select

from ownllm.corpus.compose import VersionChange, compose_version
from ownllm.corpus.versions import diff_versions, get_version, list_versions, version_document_ids
from ownllm.store.catalog import Document, File
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant


def _document(home: Home, tenant_id: str, name: str) -> str:
    with home.catalog.session() as session:
        file = File(tenant_id=tenant_id, source="upload", original_name=name, sha256="0" * 64, size=1,
                    detected_type="markdown", status="parsed")
        session.add(file)
        session.flush()
        document = Document(tenant_id=tenant_id, file_id=file.id, title=name, lang="en", text_sha256="1" * 64,
                            n_chars=1, parser="test")
        session.add(document)
        session.flush()
        return document.id


def test_concurrent_changes_all_land_in_the_latest_version(home: Home) -> None:
    tenant = create_tenant(home, "busy").id
    documents = {f"file{i}.md": _document(home, tenant, f"file{i}.md") for i in range(8)}
    barrier = threading.Barrier(8)
    errors = []

    def add(name: str) -> None:
        try:
            barrier.wait()
            change = VersionChange(seen={("upload", name)}, documents={documents[name]})
            compose_version(home, tenant, change, None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(name,)) for name in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    latest = get_version(home, tenant)
    with home.catalog.session() as session:
        assert set(version_document_ids(session, latest.id)) == set(documents.values())
    assert [v.number for v, _ in list_versions(home, tenant)] == list(range(8, 0, -1))


def test_removed_paths_leave_the_next_version_and_are_tombstoned(home: Home) -> None:
    tenant = create_tenant(home, "tidy").id
    keep, drop = _document(home, tenant, "keep.md"), _document(home, tenant, "drop.md")
    compose_version(home, tenant, VersionChange(seen={("upload", "keep.md"), ("upload", "drop.md")},
                                                documents={keep, drop}), None)
    composed = compose_version(home, tenant, VersionChange(removed_paths={("upload", "drop.md")}), None)
    assert composed.version is not None and composed.removed == ["drop.md"]
    diff = diff_versions(home, tenant, 1, 2)
    assert diff.removed == ["drop.md"] and diff.added == [] and diff.unchanged == 1
    with home.catalog.session() as session:
        deleted = session.scalar(select(File.deleted_at).where(File.original_name == "drop.md"))
    assert deleted is not None
    assert compose_version(home, tenant, VersionChange(), None).version is None  # nothing changed: no version
