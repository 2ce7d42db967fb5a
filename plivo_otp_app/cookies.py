"""The app's cookies: one parser for every `Cookie` header, one set of attributes for every cookie set.

Browsers send every cookie of the host, the app's own and anyone else's
(`theme={"dark":true}`, `note=a b`, `path=x`). The stdlib's `SimpleCookie`
gives up on the whole header at the first one it cannot parse, which lost the
session; Starlette's parser (the one behind `request.cookies`) reads each pair
on its own, the way browsers send them. The routes read `request.cookies`, the
state handlers `read_cookie(<the socket handshake's Cookie header>, name)`:
the same parser either way.

The browser cookie (`browser_cookie_name`) is a random HttpOnly value every browser
gets before its state socket connects (`BrowserCookie` on the pages the backend
serves, `give_browser_cookie` in a backend route otherwise), so that a handler can
bind what it issues (a login ticket) to this browser: a Reflex handler cannot set an
HttpOnly cookie, and the socket's handshake headers are fixed for the life of the
connection.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .proxies import request_scheme
from .tokens import new_token

#: The session (`auth_api`'s cookie routes set it, every privileged handler checks it).
SESSION_COOKIE = "otp_session"
#: A remembered device, which may skip the SMS step.
DEVICE_COOKIE = "otp_device"
#: This browser, before and while it signs in: what a login ticket is bound to.
BROWSER_COOKIE = "otp_browser"
#: Long enough for a login page left open a working day; a socket older than it keeps the old value.
BROWSER_COOKIE_SECONDS = 12 * 3600


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


def browser_cookie_name(secure: bool) -> str:
    """The browser cookie's name: under https with the `__Host-` prefix, which no sibling subdomain
    can set (it must be Secure, host-only, Path=/), so a cookie tossed from there never counts."""
    return f"__Host-{BROWSER_COOKIE}" if secure else BROWSER_COOKIE


def browser_from_handshake(cookie_header: str | None) -> str | None:
    """This browser's cookie as a state handler sees it (the `__Host-` one first)."""
    cookies = parse_cookies(cookie_header)
    return cookies.get(browser_cookie_name(True)) or cookies.get(browser_cookie_name(False)) or None


def browser_from_request(cookies: Mapping[str, str], secure: bool) -> str | None:
    """This browser's cookie as a cookie route sees it: only the name for the request's scheme."""
    return cookies.get(browser_cookie_name(secure)) or None


class BrowserCookie:
    """ASGI middleware: a page the backend serves to a browser without the browser cookie sets it.

    One port: the page's socket then sends it. Other responses (scripts, API) are left
    cacheable. A page served elsewhere (a split deployment's static site) gets it from
    `GET /api/session/browser` instead (`AuthState.know_browser`): a socket handshake's
    answer cannot carry it (granian drops the headers of `websocket.accept`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = request_scheme(scope) == "https"
        header = b"; ".join(value for key, value in scope.get("headers", []) if key.lower() == b"cookie")
        if browser_from_request(parse_cookies(header.decode("latin-1")), secure):
            await self.app(scope, receive, send)
            return
        set_header = _set_cookie_header(browser_cookie_name(secure), new_token(), secure)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html") and "set-cookie" not in headers:
                    headers.append("set-cookie", set_header.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def give_browser_cookie(response: Response, cookies: Mapping[str, str], secure: bool) -> None:
    """A fresh browser cookie on `response`, unless the request (`cookies`) has one. Never a chosen value."""
    if not browser_from_request(cookies, secure):
        set_cookie(response, browser_cookie_name(secure), new_token(), BROWSER_COOKIE_SECONDS, secure)


def _set_cookie_header(name: str, value: str, secure: bool) -> bytes:
    response = Response()
    set_cookie(response, name, value, BROWSER_COOKIE_SECONDS, secure)
    return dict(response.raw_headers)[b"set-cookie"]


def browser_cookie(app: ASGIApp) -> ASGIApp:
    """`BrowserCookie` around `app`, for `rx.App(api_transformer=[...])`."""
    return BrowserCookie(app)
