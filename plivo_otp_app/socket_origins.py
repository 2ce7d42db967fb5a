"""Which pages may open the state socket: the page's own origin, wherever it is served, and listed ones.

Reflex hands `cors_allowed_origins` to python-engineio as a fixed list, so a
page served on any other host or port than those listed could not connect (its
buttons stay disabled). engineio also accepts a callable; `allow_origin` is that
callable: the origin the request was sent to (`proxies.request_origin`) is
allowed, so is every origin in `REFLEX_CORS_ALLOWED_ORIGINS` (the frontend of a
split deployment), and any other origin is refused.
"""

from __future__ import annotations

from typing import Any

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
    return origin == request_origin(environ.get("asgi.scope", {}))


def install(app: rx.App) -> None:
    """Put `allow_origin` in place of the fixed list Reflex gave the socket server."""
    if app.sio is None:
        raise RuntimeError("the app has no state socket")
    app.sio.eio.cors_allowed_origins = allow_origin
