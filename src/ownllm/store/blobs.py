"""Content-addressed blob store: bytes live at `root/ab/cdef…` named by their sha256.

Storing the same bytes twice stores them once, and a blob never changes after it is
written (writes go to a temp file and are renamed into place), so readers never see
half a file and nothing already stored can be corrupted by a failed write.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ownllm.errors import PayloadTooLarge

_CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.exists(sha):
            self._write_atomically(sha, [data])
        return sha

    def put_file(self, path: Path) -> tuple[str, int]:
        """Store a file's bytes; returns (sha256, size). Streams, so large files do not fill memory."""
        with open(path, "rb") as src:
            return self.put_stream(src)

    def put_stream(self, src: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store what `src` yields; over `max_bytes`, nothing is kept and `PayloadTooLarge` is raised."""
        digest = hashlib.sha256()
        size = 0
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in iter(lambda: src.read(_CHUNK), b""):
                    digest.update(piece)
                    size += len(piece)
                    if max_bytes is not None and size > max_bytes:
                        raise PayloadTooLarge(f"the file is over the {max_bytes}-byte upload limit "
                                              "(setting OWNLLM_MAX_UPLOAD_BYTES)", param="file")
                    out.write(piece)
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.exists():
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)
                os.chmod(target, 0o444)
            return sha, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def delete(self, sha256: str) -> bool:
        """Remove a blob (its owner deleted the last file with these bytes); True if it was there."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def read_bytes(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def _write_atomically(self, sha: str, pieces: Iterable[bytes]) -> None:
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in pieces:
                    out.write(piece)
            os.replace(tmp_name, target)
            os.chmod(target, 0o444)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
