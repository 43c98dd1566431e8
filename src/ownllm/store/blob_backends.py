"""Pick the blob store a home uses from `OWNLLM_BLOB_URL`: the folder under the home, or an S3 bucket.

Kept apart from both stores so that the local store never mentions S3 and the S3 store (and boto3)
is imported only when a URL asks for it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ownllm.config import Settings
from ownllm.store.blobs import BlobStore


def open_blob_store(settings: Settings) -> BlobStore:
    """The local store when no URL is set; for `s3://bucket/prefix`, an S3 store cached in the home's blob folder."""
    if not settings.blob_url:
        return BlobStore(settings.blob_root)
    url = urlsplit(settings.blob_url)
    if url.scheme != "s3" or not url.netloc:
        raise ValueError(f"OWNLLM_BLOB_URL must look like s3://bucket/prefix, not {settings.blob_url!r}")
    from ownllm.store.blobs_s3 import S3BlobStore

    return S3BlobStore(settings.blob_root, url.netloc, url.path, endpoint_url=settings.blob_endpoint_url)
