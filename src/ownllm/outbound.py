"""The only door for outbound HTTP that a tenant can aim (a teacher model today, webhooks later).

A URL passes when it starts with one of the operator's `outbound_allow` prefixes and every
address its host resolves to is public; loopback, private, link-local and other special
ranges need `outbound_allow_private` as well. Without both, a tenant could make the server
call its own admin ports or a cloud metadata service (SSRF).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ownllm.config import Settings
from ownllm.errors import Forbidden, InvalidInput


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise InvalidInput(f"host {host!r} cannot be resolved", param="url") from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_outbound_url(url: str, settings: Settings, *, param: str = "url") -> str:
    """Return the URL if the operator allows calling it; otherwise raise naming the reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{param} must be an http(s) URL with a host", param=param)
    if parts.username or parts.password:
        raise InvalidInput(f"{param} must not carry credentials", param=param)
    allowed = [prefix.rstrip("/") for prefix in settings.outbound_allow]
    normalized = url.rstrip("/")
    if not any(normalized == prefix or normalized.startswith(prefix + "/") for prefix in allowed):
        raise Forbidden(f"{param} is not in this server's outbound allow-list (setting OWNLLM_OUTBOUND_ALLOW)",
                        param=param, code="outbound_not_allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not settings.outbound_allow_private:
        for address in _addresses(parts.hostname, port):
            if not is_public(address):
                raise Forbidden(f"{param} resolves to a non-public address; the operator must also set "
                                "OWNLLM_OUTBOUND_ALLOW_PRIVATE=true to allow it", param=param,
                                code="outbound_not_allowed")
    return url
