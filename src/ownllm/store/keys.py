"""API keys: `ol-<key id>-<secret>`. The secret is shown once and stored only as an argon2 hash.

The key id is the public half, so verification looks up one row and checks one hash.
Verified keys are remembered by a sha256 of the whole key for a short while (argon2
is deliberately slow); revocation, expiry and the tenant's existence are still checked on
every request. A key carries scopes (what it may do) and optional per-key rate limits.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ownllm.errors import InvalidInput, NotFound, Unauthenticated
from ownllm.store.catalog import DEFAULT_SCOPES, ApiKey, Tenant, utcnow
from ownllm.store.home import Home

_hasher = PasswordHasher()
_VERIFIED_TTL_S = 300.0
_verified: dict[str, tuple[str, float]] = {}
_verified_lock = threading.Lock()
SCOPES = ("inference", "files", "fine_tune", "admin")


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    tenant_id: str
    tenant_name: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes


ADMIN_OWNER = KeyOwner(key_id="admin", tenant_id="", tenant_name="", scopes=("admin",))  # OWNLLM_ADMIN_KEY's


def _check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; unknown: "
                           f"{', '.join(unknown) or 'none'}", param="scopes")
    return sorted(set(scopes))


def create_key(home: Home, tenant_id: str, name: str = "default", *, scopes: list[str] | tuple[str, ...] | None = None,
               expires_at: datetime | None = None, requests_per_minute: int | None = None,
               tokens_per_minute: int | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext key, which is never retrievable again."""
    secret = secrets.token_urlsafe(32)
    with home.catalog.session() as session:
        if session.get(Tenant, tenant_id) is None:
            raise NotFound(f"tenant {tenant_id!r} does not exist", param="tenant")
        key = ApiKey(tenant_id=tenant_id, name=name[:64], secret_hash=_hasher.hash(secret),
                     scopes=_check_scopes(scopes or DEFAULT_SCOPES), expires_at=expires_at,
                     requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute)
        session.add(key)
        session.flush()
        return key, f"ol-{key.id}-{secret}"


def get_key(home: Home, key_id: str) -> ApiKey:
    with home.catalog.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"API key {key_id!r} does not exist", param="key_id")
        return key


def revoke_key(home: Home, key_id: str) -> ApiKey:
    with home.catalog.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"API key {key_id!r} does not exist", param="key_id")
        key.revoked_at = key.revoked_at or utcnow()
        return key


def rotate_key(home: Home, key_id: str) -> tuple[ApiKey, str]:
    """A new key with the same name, scopes, expiry and limits; the old one is revoked at once."""
    old = get_key(home, key_id)
    if old.revoked_at is not None:
        raise InvalidInput(f"API key {key_id!r} is revoked; create a new one instead", param="key_id")
    new = create_key(home, old.tenant_id, old.name, scopes=old.scopes, expires_at=old.expires_at,
                     requests_per_minute=old.requests_per_minute, tokens_per_minute=old.tokens_per_minute)
    revoke_key(home, key_id)
    return new


def list_keys(home: Home, tenant_id: str) -> list[ApiKey]:
    with home.catalog.session() as session:
        return list(session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id)
                                    .order_by(ApiKey.created_at)))


def _split(plaintext: str) -> tuple[str, str]:
    parts = plaintext.split("-", 2)
    if len(parts) != 3 or parts[0] != "ol" or not parts[1].startswith("key_"):
        raise Unauthenticated("Incorrect API key provided.")
    return parts[1], parts[2]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _live_key(session: Any, key_id: str) -> tuple[ApiKey, str]:
    """The key row and its tenant's name, or `Unauthenticated` when unknown, revoked or expired."""
    row = session.execute(
        select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == key_id)
    ).first()
    if row is None:  # unknown key, or its tenant was deleted (the cascade removed the key)
        raise Unauthenticated("Incorrect API key provided.")
    key, tenant_name = row
    if key.revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.", code="revoked_api_key")
    if key.expires_at is not None and _aware(key.expires_at) <= utcnow():
        raise Unauthenticated("This API key has expired.", code="expired_api_key")
    return key, tenant_name


def _owner(key: ApiKey, tenant_name: str) -> KeyOwner:
    return KeyOwner(key_id=key.id, tenant_id=key.tenant_id, tenant_name=tenant_name,
                    scopes=tuple(key.scopes or DEFAULT_SCOPES), requests_per_minute=key.requests_per_minute,
                    tokens_per_minute=key.tokens_per_minute)


def authenticate(home: Home, plaintext: str,
                 argon2_gate: contextlib.AbstractContextManager[Any] | None = None) -> KeyOwner:
    """Return who owns a key, or raise `Unauthenticated` for a wrong, unknown, revoked or expired key.

    `argon2_gate` (a semaphore) bounds how many slow hash checks run at once; cached keys skip it.
    """
    key_id, secret = _split(plaintext)
    fingerprint = hashlib.sha256(plaintext.encode()).hexdigest()
    with home.catalog.session() as session:
        key, tenant_name = _live_key(session, key_id)
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
        return _owner(key, tenant_name)


def key_owner(home: Home, key_id: str) -> KeyOwner:
    """Who a key belongs to, by its public id alone: for a console session, whose key was proved at sign-in.
    A key revoked or expired since then (or a deleted tenant) ends the session."""
    with home.catalog.session() as session:
        key, tenant_name = _live_key(session, key_id)
        return _owner(key, tenant_name)
