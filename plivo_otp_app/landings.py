"""Where the cookie routes may send a browser: a page of one of the app's own frontends, exactly.

A landing (the ticket's page, `fail=`, `next=`) is kept only when it is a path or an
http(s) URL whose origin (scheme, host and port) is a frontend origin: the origin the
request was sent to (through trusted proxies, `proxies.request_origin`), a configured
`REFLEX_DEPLOY_URL`, and the origins in `REFLEX_CORS_ALLOWED_ORIGINS` (the static site of
a split deployment). Anything else (another port or scheme of the same host, userinfo,
backslashes or spaces a browser would read differently) goes to the route's default path
on the frontend's home: the request's own origin when this server serves the pages, else
the first configured frontend origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .proxies import normal_origin, request_origin


@dataclass(frozen=True)
class Frontends:
    """The origins a landing may be on, and the one a refused landing goes to."""

    #: The origin the request was sent to, if known.
    own: str | None
    #: The configured frontend origins, in order of preference.
    listed: tuple[str, ...]
    #: Whether this server serves the pages itself (one port), so that its own origin is the home.
    serves_pages: bool

    @property
    def allowed(self) -> frozenset[str]:
        """Every origin a landing is kept on."""
        return frozenset([*filter(None, [self.own]), *self.listed])

    @property
    def home(self) -> str:
        """The origin paths are resolved against; empty for the request's own (a relative path)."""
        if self.serves_pages or not self.listed or self.own in self.listed:
            return ""
        return self.listed[0]


def frontends(scope: Mapping[str, object]) -> Frontends:
    """The frontends of this deployment, as the request at `scope` sees them."""
    from reflex.config import get_config  # noqa: PLC0415 - read where Reflex reads it
    from reflex_base.environment import environment  # noqa: PLC0415

    config = get_config()
    # Reflex always has a deploy_url (http://localhost:3000 by default): it counts only when configured.
    explicit = "deploy_url" in config._non_default_attributes
    configured = [config.deploy_url] if explicit and config.deploy_url else []
    listed = [normal_origin(o) for o in [*configured, *config.cors_allowed_origins] if o.strip() and o != "*"]
    return Frontends(
        request_origin(scope),
        tuple(dict.fromkeys(listed)),
        bool(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.get()),
    )


def _is_path(landing: str) -> bool:
    return landing.startswith("/") and not landing.startswith("//")


def _origin(landing: str) -> str | None:
    """The origin of an absolute http(s) URL without userinfo; None for anything else."""
    try:
        parts = urlsplit(landing)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return normal_origin(f"{parts.scheme}://{parts.netloc}")


def local_path(value: object) -> str:
    """`value` if it is a path on this site with nothing a browser would read differently, else ""."""
    if not isinstance(value, str) or len(value) > 2048 or any(ch <= " " or ch in "\\\x7f" for ch in value):
        return ""
    return value if _is_path(value) else ""


def landing(value: str, where: Frontends, default: str) -> str:
    """`value` if it is a page of one of `where`'s frontends, else `default` (a path) on its home."""
    if any(ch <= " " or ch in "\\\x7f" for ch in value):
        return where.home + default
    if _is_path(value):
        return where.home + value
    if _origin(value) in where.allowed:
        return value
    return where.home + default
