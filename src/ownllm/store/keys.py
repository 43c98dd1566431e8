"""API keys: `ol-<key id>-<secret>`. The secret is shown once and stored only as an argon2 hash.

The key id is the public half, so verification looks up one row and checks one hash.
Verified keys are remembered by a sha256 of the whole key for a short while (argon2
is deliberately slow); revocation is still checked on every request.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ownllm.errors import NotFound, Unauthenticated
from ownllm.store.catalog import ApiKey, Tenant, utcnow
from ownllm.store.home import Home

_hasher = PasswordHasher()
_VERIFIED_TTL_S = 300.0
_verified: dict[str, tuple[str, float]] = {}
_verified_lock = threading.Lock()


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    tenant_id: str
    tenant_name: str


def create_key(home: Home, tenant_id: str, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext key, which is never retrievable again."""
    secret = secrets.token_urlsafe(32)
    with home.catalog.session() as session:
        key = ApiKey(tenant_id=tenant_id, name=name, secret_hash=_hasher.hash(secret))
        session.add(key)
        session.flush()
        return key, f"ol-{key.id}-{secret}"


def revoke_key(home: Home, key_id: str) -> None:
    with home.catalog.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"API key {key_id!r} does not exist")
        key.revoked_at = key.revoked_at or utcnow()


def list_keys(home: Home, tenant_id: str) -> list[ApiKey]:
    with home.catalog.session() as session:
        return list(session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id)))


def _split(plaintext: str) -> tuple[str, str]:
    parts = plaintext.split("-", 2)
    if len(parts) != 3 or parts[0] != "ol" or not parts[1].startswith("key_"):
        raise Unauthenticated("Incorrect API key provided.")
    return parts[1], parts[2]


def authenticate(home: Home, plaintext: str,
                 argon2_gate: contextlib.AbstractContextManager[Any] | None = None) -> KeyOwner:
    """Return who owns a key, or raise `Unauthenticated` for a wrong, unknown or revoked key.

    `argon2_gate` (a semaphore) bounds how many slow hash checks run at once; cached keys skip it.
    """
    key_id, secret = _split(plaintext)
    fingerprint = hashlib.sha256(plaintext.encode()).hexdigest()
    with home.catalog.session() as session:
        row = session.execute(
            select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == key_id)
        ).first()
        if row is None:
            raise Unauthenticated("Incorrect API key provided.")
        key, tenant_name = row
        if key.revoked_at is not None:
            raise Unauthenticated("This API key has been revoked.", code="revoked_api_key")
        with _verified_lock:
            cached = _verified.get(fingerprint)
        if cached is None or cached[0] != key_id or cached[1] < time.monotonic():
            try:
                with argon2_gate or contextlib.nullcontext():
                    _hasher.verify(key.secret_hash, secret)
            except (VerificationError, InvalidHashError) as exc:
                raise Unauthenticated("Incorrect API key provided.") from exc
            with _verified_lock:
                _verified[fingerprint] = (key_id, time.monotonic() + _VERIFIED_TTL_S)
        return KeyOwner(key_id=key.id, tenant_id=key.tenant_id, tenant_name=tenant_name)
