"""Which pages may open the state socket: the page's own origin, wherever it is served, and listed ones.

Reflex hands `cors_allowed_origins` to python-engineio as a fixed list, so a
page served on any other host or port than those listed could not connect (its
buttons stay disabled). engineio also accepts a callable; `allow_origin` is that
callable: the origin the request was sent to (`proxies.request_origin`) is
allowed, so is every origin in `REFLEX_CORS_ALLOWED_ORIGINS` (the frontend of a
split deployment), and any other origin is refused.

The development server (`reflex run` without `--env prod`) serves the page on
the frontend port and the socket on the backend port of the same host, and
moves to the next free frontend port when 3000 is taken: there, a page on the
socket's own host, any port, is the app's own page too.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import reflex as rx

from .proxies import normal_origin, request_origin


def extra_origins() -> frozenset[str]:
    """The origins listed in Reflex's `cors_allowed_origins` (`REFLEX_CORS_ALLOWED_ORIGINS`)."""
    from reflex.config import get_config  # noqa: PLC0415 - read where Reflex reads it

    return frozenset(normal_origin(origin) for origin in get_config().cors_allowed_origins if origin.strip())


def allow_origin(origin: str | None, environ: dict[str, Any]) -> bool:
    """engineio's origin check: the request's own origin, or a listed one."""
    if not origin:
        return False
    origin = normal_origin(origin)
    allowed = extra_origins()
    if "*" in allowed or origin in allowed:
        return True
    own = request_origin(environ.get("asgi.scope", {}))
    if origin == own:
        return True
    return own is not None and _development() and _hostname(origin) == _hostname(own)


def _development() -> bool:
    """Whether this is `reflex run`'s development server (Reflex sets the mode for its processes)."""
    return os.environ.get("REFLEX_ENV_MODE", "dev") != "prod"


def _hostname(origin: str) -> str | None:
    try:
        return urlsplit(origin).hostname
    except ValueError:
        return None


def install(app: rx.App) -> None:
    """Put `allow_origin` in place of the fixed list Reflex gave the socket server."""
    if app.sio is None:
        raise RuntimeError("the app has no state socket")
    app.sio.eio.cors_allowed_origins = allow_origin
