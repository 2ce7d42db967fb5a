"""The app's cookies: one parser for every `Cookie` header, one set of attributes for every cookie set.

Browsers send every cookie of the host, the app's own and anyone else's
(`theme={"dark":true}`, `note=a b`, `path=x`). The stdlib's `SimpleCookie`
gives up on the whole header at the first one it cannot parse, which lost the
session; Starlette's parser (the one behind `request.cookies`) reads each pair
on its own, the way browsers send them. The routes read `request.cookies`, the
state handlers `read_cookie(<the socket handshake's Cookie header>, name)`:
the same parser either way.
"""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.responses import Response

#: The session (`auth_api`'s cookie routes set it, every privileged handler checks it).
SESSION_COOKIE = "otp_session"
#: A remembered device, which may skip the SMS step.
DEVICE_COOKIE = "otp_device"


def parse_cookies(cookie_header: str | None) -> dict[str, str]:
    """Every cookie of a raw `Cookie` header, by name (a repeated name: its last value)."""
    return cookie_parser(cookie_header) if cookie_header else {}


def read_cookie(cookie_header: str | None, name: str) -> str | None:
    """One cookie's value from a raw `Cookie` header; None when absent or empty."""
    return parse_cookies(cookie_header).get(name) or None


def set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    """An HttpOnly, SameSite=Lax cookie for the whole host (`Secure` under https)."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure)


def delete_cookie(response: Response, name: str, secure: bool) -> None:
    """Clear a cookie `set_cookie` set."""
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)
