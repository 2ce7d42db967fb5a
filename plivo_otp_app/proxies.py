"""Who is asking, and at which origin: forwarded headers are believed only from trusted proxies.

A client that reaches the app port directly can send any `X-Forwarded-For`,
`X-Forwarded-Host` or `X-Forwarded-Proto`. They count only when the address the
connection came from is in `TRUSTED_PROXIES` (and Reflex's `trusted_proxy_hops`
is above 0); every address a request is judged by (rate limits, logs, the socket's
origin check, HSTS) comes from here, for the JSON API, the cookie routes and the
page's state handlers alike.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from .config import Network, get_settings

#: The header under which Reflex hands the socket's raw peer address to the state handlers.
PEER_HEADER = "asgi-scope-client"


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str | None, trusted: tuple[Network, ...]) -> bool:
    """Whether `peer` is one of the configured proxies."""
    address = _address(peer)
    return address is not None and any(address in network for network in trusted)


def _hops() -> int:
    from reflex.config import get_config  # noqa: PLC0415 - Reflex's own proxy setting

    return get_config().trusted_proxy_hops


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    hops: int | None = None,
    trusted: tuple[Network, ...] | None = None,
) -> str:
    """The client's address: the peer, or what up to `hops` trusted proxies say they saw.

    Walks `X-Forwarded-For` from the right while the address at hand is a trusted
    proxy, at most `hops` steps, so entries a client wrote itself are never reached.

    Args:
        peer: The address the connection came from (the ASGI scope's client).
        forwarded_for: The `X-Forwarded-For` header, if any.
        hops: Reflex's `trusted_proxy_hops`; read from the Reflex config when omitted.
        trusted: The proxies' networks; `TRUSTED_PROXIES` when omitted.
    """
    hops = _hops() if hops is None else hops
    trusted = get_settings().infra.trusted_proxies if trusted is None else trusted
    address = (peer or "").strip() or "unknown"
    chain = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    while hops > 0 and chain and is_trusted(address, trusted):
        address = chain.pop()
        hops -= 1
    return address


def forwarded_trusted(peer: str | None) -> bool:
    """Whether this connection's `X-Forwarded-*` headers are believed."""
    return _hops() > 0 and is_trusted(peer, get_settings().infra.trusted_proxies)


def _last(value: str | None) -> str | None:
    """The entry the nearest proxy wrote: the last of a comma-separated header."""
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    return parts[-1] if parts else None


def scope_headers(scope: Mapping[str, object]) -> dict[str, str]:
    """An ASGI scope's headers by lower-case name (a repeated header: its last value)."""
    raw = scope.get("headers") or []
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}  # type: ignore[union-attr]


def scope_peer(scope: Mapping[str, object]) -> str | None:
    """The address an ASGI connection came from."""
    client = scope.get("client")
    return str(client[0]) if client else None  # type: ignore[index]


def request_scheme(scope: Mapping[str, object]) -> str:
    """`https` or `http`, as the browser sent it (a trusted proxy's `X-Forwarded-Proto` counts)."""
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    if forwarded_trusted(scope_peer(scope)):
        forwarded = (_last(scope_headers(scope).get("x-forwarded-proto")) or "").lower()
        if forwarded in ("http", "https"):
            scheme = forwarded
    return scheme


def normal_origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case, without the scheme's default port."""
    origin = origin.strip().rstrip("/").lower()
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if origin.startswith(scheme) and origin.endswith(port):
            return origin[: -len(port)]
    return origin


def request_origin(scope: Mapping[str, object]) -> str | None:
    """The origin the request was sent to: its scheme and `Host` (or a trusted proxy's `X-Forwarded-Host`)."""
    headers = scope_headers(scope)
    host = headers.get("host")
    if forwarded_trusted(scope_peer(scope)):
        host = _last(headers.get("x-forwarded-host")) or host
    if not host:
        return None
    return normal_origin(f"{request_scheme(scope)}://{host}")
