"""Tenants and API keys: hashed at rest, shown once, revocable."""

from __future__ import annotations

import pytest

from ownllm.errors import Conflict, InvalidInput, Unauthenticated
from ownllm.store.catalog import ApiKey
from ownllm.store.home import Home
from ownllm.store.keys import authenticate, create_key, revoke_key
from ownllm.store.tenants import create_tenant, get_tenant


def test_tenant_names_are_unique_and_validated(home: Home) -> None:
    create_tenant(home, "acme")
    with pytest.raises(Conflict):
        create_tenant(home, "acme")
    with pytest.raises(InvalidInput, match="invalid"):
        create_tenant(home, "Bad Name!")
    assert get_tenant(home, "acme").name == "acme"


def test_key_is_stored_only_as_an_argon2_hash(home: Home) -> None:
    tenant = create_tenant(home, "acme")
    key, plaintext = create_key(home, tenant.id)
    secret = plaintext.split("-", 2)[2]
    with home.catalog.session() as session:
        row = session.get(ApiKey, key.id)
        assert row is not None
        assert row.secret_hash.startswith("$argon2")
        assert secret not in row.secret_hash
    assert authenticate(home, plaintext).tenant_id == tenant.id


def test_wrong_unknown_and_revoked_keys_are_refused(home: Home) -> None:
    tenant = create_tenant(home, "acme")
    key, plaintext = create_key(home, tenant.id)
    with pytest.raises(Unauthenticated):
        authenticate(home, plaintext[:-2] + "xx")
    with pytest.raises(Unauthenticated):
        authenticate(home, "sk-not-ours")
    with pytest.raises(Unauthenticated):
        authenticate(home, "ol-key_doesnotexist-secret")
    assert authenticate(home, plaintext).key_id == key.id
    revoke_key(home, key.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(home, plaintext)  # the verified-key cache must not outlive revocation
