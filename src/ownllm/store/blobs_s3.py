"""Blobs in an S3-compatible bucket, with the local blob folder as a read-through cache.

Several machines can then share one blob store, while parsers, previews and tuning keep reading
a local file from `path_for`: a blob missing from the cache is downloaded (checked against its
sha256, renamed into place) the first time someone asks for its path. Objects live at
`<prefix>/ab/cdef…`, the same layout as on disk. boto3 is imported only here and only when such a
store is opened, since it is an optional dependency (`ownllm[scale]`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from ownllm.errors import OwnLLMError
from ownllm.store.blobs import BlobStore

_CHUNK = 1 << 20
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class BlobStoreUnavailable(OwnLLMError):
    """The configured blob store cannot be used (no boto3, no bucket, no access): an operator must act."""

    status = 503
    type = "server_error"
    code = "blob_store_unavailable"


class BlobCorrupted(OwnLLMError):
    """A stored object's bytes do not hash to its name; serving them would pass off other content."""

    status = 500
    type = "server_error"
    code = "blob_corrupted"


def _import_boto3() -> tuple[ModuleType, ModuleType, ModuleType]:
    """boto3, botocore.config and botocore.exceptions, or a message saying which extra to install."""
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError as exc:
        raise BlobStoreUnavailable("OWNLLM_BLOB_URL points at S3, which needs boto3: "
                                   "install it with `pip install 'ownllm[scale]'`") from exc
    return boto3, botocore.config, botocore.exceptions


def s3_client(endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client (credentials and region from the usual AWS_* variables); path-style addressing
    for a custom endpoint, since MinIO and most S3-compatible servers expect it."""
    boto3, config, _ = _import_boto3()
    options = config.Config(s3={"addressing_style": "path"}) if endpoint_url else None
    return boto3.client("s3", endpoint_url=endpoint_url, config=options)


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3BlobStore(BlobStore):
    """The bucket is the store of record; `root` is this machine's cache of it, so a fresh machine starts empty."""

    def __init__(self, root: Path, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 client: Any = None) -> None:
        super().__init__(root)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client if client is not None else s3_client(endpoint_url)
        errors = _import_boto3()[2]
        self._client_error: type[Exception] = errors.ClientError
        self._cache = BlobStore(root)  # local reads and writes, without the download that path_for adds
        try:
            self.client.head_bucket(Bucket=bucket)
        except errors.ClientError as exc:
            reason = "does not exist" if _error_code(exc) in _NOT_FOUND else f"cannot be used ({exc})"
            raise BlobStoreUnavailable(f"the blob bucket {bucket!r} {reason} (setting OWNLLM_BLOB_URL)") from exc
        except errors.BotoCoreError as exc:
            raise BlobStoreUnavailable(f"the blob bucket {bucket!r} cannot be reached: {exc} "
                                       "(settings OWNLLM_BLOB_URL, OWNLLM_BLOB_ENDPOINT_URL)") from exc

    def key_for(self, sha256: str) -> str:
        self._cache.path_for(sha256)  # validates the digest
        name = f"{sha256[:2]}/{sha256[2:]}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def path_for(self, sha256: str) -> Path:
        """The cached local file, downloaded first if only the bucket has it (absent everywhere: not created)."""
        path = self._cache.path_for(sha256)
        if not path.is_file():
            self._download(sha256)
        return path

    def exists(self, sha256: str) -> bool:
        return self._cache.exists(sha256) or self._in_bucket(sha256)

    def put_bytes(self, data: bytes) -> str:
        sha = self._cache.put_bytes(data)
        self._upload(sha)
        return sha

    def put_stream(self, src: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """As on disk; the cache refuses an oversized stream before anything is uploaded."""
        sha, size = self._cache.put_stream(src, max_bytes)
        self._upload(sha)
        return sha, size

    def delete(self, sha256: str) -> bool:
        in_cache = self._cache.delete(sha256)
        in_bucket = self._in_bucket(sha256)
        if in_bucket:
            self.client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))
        return in_cache or in_bucket

    def _in_bucket(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except self._client_error as exc:
            if _error_code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def _upload(self, sha256: str) -> None:
        """Upload a cached blob unless the bucket already has it (same name, same bytes)."""
        if not self._in_bucket(sha256):
            self.client.upload_file(str(self._cache.path_for(sha256)), self.bucket, self.key_for(sha256))

    def _download(self, sha256: str) -> None:
        key = self.key_for(sha256)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._client_error as exc:
            if _error_code(exc) in _NOT_FOUND:
                return
            raise
        # the cache's atomic write (temp file, rename, 0o444) only iterates its pieces: a generator that
        # raises on a wrong digest before the rename leaves nothing behind
        self._cache._write_atomically(sha256, self._verified(body, sha256, key))

    def _verified(self, body: Any, sha256: str, key: str) -> Iterator[bytes]:
        """The object's bytes, refused at the end if they do not hash to the name they are stored under."""
        digest = hashlib.sha256()
        with body:
            for piece in body.iter_chunks(_CHUNK):
                digest.update(piece)
                yield piece
        if digest.hexdigest() != sha256:
            raise BlobCorrupted(f"s3://{self.bucket}/{key} holds other bytes (sha256 {digest.hexdigest()}) "
                                "than its name says; refusing it: restore the object from a backup")
