"""Console sign-in: an API key is exchanged once for a signed, HttpOnly, SameSite=strict cookie.

The cookie holds no secret: the key's public id, an expiry and a random nonce, signed with the home's
secret (HMAC-SHA256). Each request re-reads the key, so revoking it (or deleting the tenant) ends every
session at once; an admin session is bound to the admin key it was opened with. Signing out clears the
cookie in that browser; a copied cookie lives until it expires (12 h) unless the key is revoked.
The CSRF token is an HMAC of the nonce: every form and every script call sends it back, and a POST
without it is refused even if a browser ever sent the cookie cross-site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Request, Response

from ownllm.errors import Forbidden, Unauthenticated
from ownllm.store.keys import ADMIN_OWNER, KeyOwner, key_owner

COOKIE = "ownllm_console"
LANG_COOKIE = "ownllm_lang"
LOGIN_CSRF_COOKIE = "ownllm_login_csrf"
SESSION_S = 12 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignedOut(Exception):
    """No valid session: pages redirect to the sign-in page, scripts get a 401."""


@dataclass(frozen=True)
class ConsoleUser:
    owner: KeyOwner
    csrf: str
    lang: str

    @property
    def tenant_id(self) -> str:
        return self.owner.tenant_id

    @property
    def is_admin(self) -> bool:
        return self.owner.is_admin

    def may(self, scope: str) -> bool:
        return scope in self.owner.scopes or self.owner.is_admin

    def require(self, scope: str) -> None:
        if not self.may(scope):
            raise Forbidden(f"this API key lacks the {scope!r} scope", code="missing_scope")


def _mac(secret: bytes, purpose: str, message: str, length: int = 64) -> str:
    """HMAC-SHA256 of `message` under the home's secret, separated by purpose (a session signature is never
    valid as a CSRF token, and so on)."""
    return hmac.new(secret, f"console-{purpose}:{message}".encode(), hashlib.sha256).hexdigest()[:length]


def _admin_tag(secret: bytes, admin_key: str | None) -> str:
    """Binds an admin session to the admin key it was opened with: rotating OWNLLM_ADMIN_KEY ends it."""
    return _mac(secret, "admin", admin_key or "", 32)


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that also refuses non-ASCII input instead of raising."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def issue(response: Response, request: Request, owner: KeyOwner) -> None:
    """Set the session cookie for a key that was just proved."""
    runtime = request.app.state.runtime
    secret = runtime.home.secret()
    data = {"k": owner.key_id, "e": int(time.time()) + SESSION_S, "n": secrets.token_hex(16)}
    if owner.key_id == ADMIN_OWNER.key_id:
        data["a"] = _admin_tag(secret, runtime.home.settings.admin_key)
    payload = base64.urlsafe_b64encode(json.dumps(data).encode())
    response.set_cookie(COOKIE, f"{payload.decode()}.{_mac(secret, 'session', payload.decode())}", max_age=SESSION_S,
                        httponly=True, samesite="strict", path="/console",
                        secure=request.url.scheme == "https")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console")


def language(request: Request) -> str:
    chosen = request.query_params.get("ui") or request.cookies.get(LANG_COOKIE)
    if chosen in ("en", "zh"):
        return chosen
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def current_user(request: Request) -> ConsoleUser:
    """The signed-in user, or `SignedOut`; a request that changes something must carry the CSRF token."""
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.partition(".")
    runtime = request.app.state.runtime
    secret = runtime.home.secret()
    if not payload or not _same(signature, _mac(secret, "session", payload)):
        raise SignedOut
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError as exc:
        raise SignedOut from exc
    if int(data.get("e", 0)) < time.time():
        raise SignedOut
    key_id = str(data.get("k", ""))
    try:
        if key_id == ADMIN_OWNER.key_id:
            admin_key = runtime.home.settings.admin_key
            if not admin_key or not _same(str(data.get("a", "")), _admin_tag(secret, admin_key)):
                raise SignedOut
            owner = ADMIN_OWNER
        else:
            owner = key_owner(runtime.home, key_id)
    except Unauthenticated as exc:
        raise SignedOut from exc
    return ConsoleUser(owner, _mac(secret, "csrf", str(data.get("n", ""))), language(request))


async def check_csrf(request: Request, user: ConsoleUser) -> None:
    """Refuse a state-changing request whose token (header or form field) is not this session's."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not sent or not _same(sent, user.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again",
                        code="csrf_failed")


def login_csrf(request: Request) -> str:
    """Sign-in has no session yet: a token in a strict cookie must match the form's copy, and must be one this
    server signed (a cookie planted by a sibling site with a value of its own choosing is not accepted)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if login_csrf_valid(request, current):
        return current
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_login_sig(request, nonce)}"


def _login_sig(request: Request, nonce: str) -> str:
    return _mac(request.app.state.runtime.home.secret(), "login", nonce, 32)


def login_csrf_valid(request: Request, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and _same(signature, _login_sig(request, nonce))
