"""The data space on disk: one catalog plus one blob store, opened together.

Every service function takes a `Home`, never globals, so tests and the API can run
several homes side by side and a stage can be pointed at another home unchanged.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ownllm.config import Settings, get_settings
from ownllm.store.blob_backends import open_blob_store
from ownllm.store.blobs import BlobStore
from ownllm.store.catalog import Catalog
from ownllm.store.migrate import upgrade_to_head


@dataclass
class Home:
    settings: Settings
    catalog: Catalog
    blobs: BlobStore
    _secret: bytes | None = field(default=None, init=False, repr=False)

    @property
    def root(self) -> Path:
        return self.settings.home

    def secret(self) -> bytes:
        """A per-home random key (created once, readable only by the owner) for keyed hashes.

        Written whole to a temporary file and then linked into place, so a second process starting at the
        same moment reads either nothing (and links its own, which fails and re-reads) or all 32 bytes."""
        if self._secret is not None:  # read once per process: every console request signs with it
            return self._secret
        path = self.root / "secret.key"
        if not path.exists():
            tmp = path.with_name(f"secret.key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        secret = path.read_bytes()
        if len(secret) < 32:
            raise RuntimeError(f"{path} is shorter than 32 bytes: restore it from a backup or delete it "
                               "(deleting it changes redaction hashes and signs out console sessions)")
        self._secret = secret
        return secret

    def relative(self, path: Path | str) -> str:
        """A path inside the home as the API may show it (relative); other paths are shown by name only."""
        path = Path(path)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.name

    def absolute(self, relative: str) -> Path:
        """The inverse of `relative`, refusing anything that would leave the home."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relative!r} is outside the home")
        return path

    def scrub(self, text: str) -> str:
        """Replace the home's absolute path in a message meant for a tenant (job errors, events)."""
        for root in {str(self.root), str(self.root.resolve())}:
            text = text.replace(root, "$OWNLLM_HOME")
        return text

    def close(self) -> None:
        self.catalog.dispose()


def open_home(settings: Settings | None = None, *, migrate: bool = True) -> Home:
    """Open (creating if needed) the home; migrations are applied so old homes keep working."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.blob_root.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade_to_head(settings.catalog_url)
    return Home(settings=settings, catalog=Catalog(settings.catalog_url), blobs=open_blob_store(settings))
