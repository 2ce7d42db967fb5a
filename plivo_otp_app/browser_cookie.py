"""The pre-login browser cookie `otp_browser`: what ties a sign-up or login in progress to one browser.

An ASGI middleware for `rx.App(api_transformer=[...])`: a page response to a
browser that has no `otp_browser` cookie gets a fresh random one (256 bits,
HttpOnly, SameSite=Lax, Path=/, Secure under https). JavaScript cannot read it,
so the Reflex client token (in sessionStorage and the socket URL) does not reveal
it; the socket handshake carries it to the state handlers, which keep its hash
in a flow and refuse the flow's later steps on a connection without it.

Where the pages do not come from this backend (`reflex run` in dev mode, an
exported frontend on a static host), the state socket's handshake answer carries
the cookie instead: that connection is already open without it, so the page asks
for a reload (`CookiesNeeded`), and the next socket has it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .proxies import request_scheme
from .tokens import new_token

BROWSER_COOKIE = "otp_browser"


def _has_cookie(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"cookie" and cookie_parser(value.decode("latin-1")).get(BROWSER_COOKIE):
            return True
    return False


def _set_cookie(https: bool) -> str:
    secure = "; Secure" if https else ""
    return f"{BROWSER_COOKIE}={new_token()}; Path=/; HttpOnly; SameSite=Lax{secure}"


class BrowserCookie:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _has_cookie(scope):
            await self.app(scope, receive, send)
            return
        https = request_scheme(scope) == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.append("Set-Cookie", _set_cookie(https))
            elif message["type"] == "websocket.accept":
                cookie = (b"set-cookie", _set_cookie(https).encode("latin-1"))
                message = {**message, "headers": [*message.get("headers", []), cookie]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def browser_cookie(app: ASGIApp) -> ASGIApp:
    """`BrowserCookie` around `app`, for `rx.App(api_transformer=[...])`."""
    return BrowserCookie(app)
