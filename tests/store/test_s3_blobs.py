"""The S3 blob store against a real S3-compatible HTTP server (moto's, on localhost), never an in-process mock.

Each test gets its own bucket; a second store with an empty cache folder plays a second machine.
"""

from __future__ import annotations

import hashlib
import io
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ownllm.config import Settings
from ownllm.errors import PayloadTooLarge
from ownllm.ingest.pipeline import ingest_paths
from ownllm.store.blob_backends import open_blob_store
from ownllm.store.blobs import BlobStore
from ownllm.store.blobs_s3 import BlobCorrupted, BlobStoreUnavailable, S3BlobStore, s3_client
from ownllm.store.catalog import Document, File
from ownllm.store.statuses import FileStatus
from ownllm.store.tenants import create_tenant
from tests.conftest import make_home

pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials (moto takes any), and nothing from the developer's own AWS setup."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(endpoint: str) -> Any:
    return s3_client(endpoint)


@pytest.fixture
def bucket(client: Any) -> str:
    name = f"blobs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


def _store(root: Path, bucket: str, endpoint: str, prefix: str = "tenant/blobs") -> S3BlobStore:
    return S3BlobStore(root, bucket, prefix, endpoint_url=endpoint)


def _keys(client: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _key(sha: str, prefix: str = "tenant/blobs") -> str:
    return f"{prefix}/{sha[:2]}/{sha[2:]}"


def test_puts_land_in_the_cache_and_the_bucket(tmp_path: Path, bucket: str, endpoint: str, client: Any) -> None:
    store = _store(tmp_path / "cache", bucket, endpoint)
    sha_bytes = store.put_bytes(b"hello")
    sha_stream, size = store.put_stream(io.BytesIO(b"streamed " * 1000), max_bytes=1 << 20)
    source = tmp_path / "report.md"
    source.write_bytes(b"# Report\n")
    sha_file, file_size = store.put_file(source)
    assert sha_bytes == hashlib.sha256(b"hello").hexdigest() and (size, file_size) == (9000, 9)
    assert _keys(client, bucket) == {_key(sha) for sha in (sha_bytes, sha_stream, sha_file)}
    assert client.get_object(Bucket=bucket, Key=_key(sha_file))["Body"].read() == b"# Report\n"
    cached = store.path_for(sha_bytes)
    assert cached == tmp_path / "cache" / sha_bytes[:2] / sha_bytes[2:] and cached.stat().st_mode & 0o777 == 0o444
    assert store.read_bytes(sha_stream) == b"streamed " * 1000
    assert store.put_bytes(b"hello") == sha_bytes and len(_keys(client, bucket)) == 3  # stored once


def test_a_second_machine_reads_through_its_empty_cache(tmp_path: Path, bucket: str, endpoint: str) -> None:
    sha = _store(tmp_path / "first", bucket, endpoint).put_bytes(b"shared bytes")
    second = _store(tmp_path / "second", bucket, endpoint)
    assert not (tmp_path / "second" / sha[:2]).exists()
    assert second.exists(sha)
    path = second.path_for(sha)
    assert path.read_bytes() == b"shared bytes" and path.is_relative_to(tmp_path / "second")
    assert path.stat().st_mode & 0o777 == 0o444
    with second.open(sha) as handle:
        assert handle.read() == b"shared bytes"
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not second.exists(missing) and not second.path_for(missing).exists()
    assert [p.name for p in (tmp_path / "second").rglob(".incoming-*")] == []


def test_an_oversized_stream_is_refused_and_nothing_is_uploaded(tmp_path: Path, bucket: str, endpoint: str,
                                                               client: Any) -> None:
    store = _store(tmp_path / "cache", bucket, endpoint)
    with pytest.raises(PayloadTooLarge):
        store.put_stream(io.BytesIO(b"x" * 2048), max_bytes=1024)
    assert _keys(client, bucket) == set()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_delete_removes_the_object_from_the_bucket_and_the_cache(tmp_path: Path, bucket: str, endpoint: str,
                                                                 client: Any) -> None:
    store = _store(tmp_path / "cache", bucket, endpoint)
    sha = store.put_bytes(b"short-lived")
    assert store.delete(sha)
    assert _keys(client, bucket) == set() and not (tmp_path / "cache" / sha[:2] / sha[2:]).exists()
    assert not store.exists(sha) and not store.delete(sha)
    only_remote = _store(tmp_path / "first", bucket, endpoint).put_bytes(b"remote only")
    assert _store(tmp_path / "empty", bucket, endpoint).delete(only_remote) and _keys(client, bucket) == set()


def test_a_tampered_object_is_refused_on_download(tmp_path: Path, bucket: str, endpoint: str, client: Any) -> None:
    sha = _store(tmp_path / "first", bucket, endpoint).put_bytes(b"the real contract")
    client.put_object(Bucket=bucket, Key=_key(sha), Body=b"a forged contract")
    second = _store(tmp_path / "second", bucket, endpoint)
    with pytest.raises(BlobCorrupted, match="holds other bytes"):
        second.path_for(sha)
    assert [p for p in (tmp_path / "second").rglob("*") if p.is_file()] == []


def test_a_missing_bucket_or_boto3_or_bad_url_is_named(tmp_path: Path, endpoint: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BlobStoreUnavailable, match="'no-such-bucket' does not exist"):
        _store(tmp_path / "cache", "no-such-bucket", endpoint)
    with pytest.raises(ValueError, match="OWNLLM_BLOB_URL"):
        open_blob_store(Settings(home=tmp_path, blob_url="gs://bucket/prefix"))
    assert type(open_blob_store(Settings(home=tmp_path))) is BlobStore
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(BlobStoreUnavailable, match=r"ownllm\[scale\]"):
        _store(tmp_path / "cache", "any-bucket", endpoint)


def test_a_home_with_an_s3_url_keeps_ingested_files_in_the_bucket(tmp_path: Path, bucket: str, endpoint: str,
                                                                  client: Any) -> None:
    home = make_home(tmp_path / "home", blob_url=f"s3://{bucket}/homes/one", blob_endpoint_url=endpoint)
    try:
        assert isinstance(home.blobs, S3BlobStore) and home.blobs.prefix == "homes/one"
        tenant = create_tenant(home, "s3co")
        folder = tmp_path / "dropbox"
        folder.mkdir()
        raw = b"# Returns\n\nCustomers may return a bike within 30 days of delivery.\n"
        (folder / "returns.md").write_bytes(raw)
        report = ingest_paths(home, tenant.id, [folder])
        assert report.count(FileStatus.PARSED) == 1, report.as_dict()
        with home.catalog.session() as session:
            document = session.scalar(select(Document).join(File).where(File.tenant_id == tenant.id))
            assert document is not None
            text_sha = document.text_sha256
        raw_sha = hashlib.sha256(raw).hexdigest()
        assert {_key(raw_sha, "homes/one"), _key(text_sha, "homes/one")} <= _keys(client, bucket)
        assert client.get_object(Bucket=bucket, Key=_key(raw_sha, "homes/one"))["Body"].read() == raw
    finally:
        home.close()


def test_ray_train_checkpoints_go_to_the_blob_bucket(tmp_path: Path, bucket: str, endpoint: str, client: Any) -> None:
    """With blobs on S3, Ray Train's storage path is in the bucket, through the filesystem Ray writes with."""
    from ownllm.config import Settings
    from ownllm.jobs.ray_cluster import ray_storage

    settings = Settings(home=tmp_path, blob_url=f"s3://{bucket}/tenant/blobs", blob_endpoint_url=endpoint)
    path, filesystem = ray_storage(settings, tmp_path / "runs" / "job_1" / "ray")
    assert path == f"{bucket}/tenant/blobs/ray-runs/job_1"
    with filesystem.open_output_stream(f"{path}/checkpoint_000000/state.pt") as out:
        out.write(b"checkpoint bytes")
    assert "tenant/blobs/ray-runs/job_1/checkpoint_000000/state.pt" in _keys(client, bucket)
    local, none = ray_storage(Settings(home=tmp_path), tmp_path / "runs" / "job_1" / "ray")
    assert none is None and local == str((tmp_path / "runs" / "job_1" / "ray").resolve())
