"""Security headers on every response the backend sends: pages, API, cookie routes, sandbox, 404s.

An ASGI middleware for `rx.App(api_transformer=[..., security_headers])`. In the
single-port production build the backend serves the exported pages too, so one
wrapper covers all of them. A page's Content-Security-Policy allows exactly the
inline scripts React Router prerendered into that page, by their SHA-256 hashes
taken from the HTML being sent (cached per page body), and no `eval`. The challenge's web
component (`components/challenge.py`) adds its one stylesheet, allowed by its hash, and runs
its proof of work in workers made from `blob:` URLs, allowed as workers only.
Headers a route set itself (the cookie routes' `Referrer-Policy: no-referrer`)
are kept.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import anyio
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .proxies import PEER_HEADER, normal_origin, request_origin, request_scheme
from .socket_origins import extra_origins

HSTS = "max-age=63072000; includeSubDomains"
#: Every response; a route's own value of one of these wins.
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
#: Anything that is not a page: nothing may load from it or frame it.
NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: SHA-256 of the one `<style>` the `altcha` web component (3.2.2) adds to the page; a test
#: reads the installed package's stylesheet and checks it.
ALTCHA_STYLE_HASH = "'sha256-ZgqGuQlekW98cv0XQjYUGCLTvc3q5MkU+2SkqlFGoTM='"
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(rb"\ssrc\s*=", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """`'sha256-...'` of every inline script of a page, in order, without repeats."""
    hashes: dict[str, None] = {}
    for match in _INLINE_SCRIPT.finditer(html):
        if _SRC.search(match.group(1)):
            continue
        digest = base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
        hashes[f"'sha256-{digest}'"] = None
    return tuple(hashes)


def _socket_origin(origin: str) -> str:
    return (
        "wss://" + origin[8:] if origin.startswith("https://") else "ws://" + origin.removeprefix("http://")
    )


def page_csp(html: bytes, own_origin: str | None) -> str:
    """The policy for one page: its own scripts, its own socket and the listed origins'."""
    return policy_for(inline_script_hashes(html), [*filter(None, [own_origin]), *sorted(extra_origins())])


def policy_for(script_hashes: Iterable[str], origins: Iterable[str]) -> str:
    """A page policy allowing these inline scripts and connections to these origins (HTTP and WebSocket)."""
    connect = ["'self'"]
    for origin in origins:
        if origin != "*":
            connect += [origin, _socket_origin(origin)]
    scripts = " ".join(["'self'", *script_hashes])
    return (
        f"default-src 'self'; script-src {scripts}; "
        # No inline styles: the pages style by classes from stylesheets, and Emotion inserts rules by
        # CSSOM; the challenge's widget adds its own stylesheet, allowed by its hash alone.
        f"style-src 'self' {ALTCHA_STYLE_HASH}; img-src 'self' data:; font-src 'self' data:; "
        f"connect-src {' '.join(dict.fromkeys(connect))}; "
        # The challenge's proof of work runs in workers the widget makes from its own blobs.
        "worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def static_site_policy(directory: Path, api_origin: str) -> str:
    """The policy a static host must send with every page of `reflex export` in `directory`."""
    hashes = dict.fromkeys(
        h for page in sorted(directory.rglob("*.html")) for h in inline_script_hashes(page.read_bytes())
    )
    return policy_for(hashes, [normal_origin(api_origin)])


def _clean_scope(scope: Scope) -> Scope:
    """Drop what a client must not choose: Reflex's raw-peer header, and encodings we cannot read back.

    The page's CSP hashes are taken from the body, so pages may come compressed
    only as gzip (Reflex's default pre-compression), which we can read back.
    """
    headers = []
    for name, value in scope.get("headers", []):
        if name.lower() == PEER_HEADER.encode():
            continue
        if name.lower() == b"accept-encoding":
            if b"gzip" not in value.lower():
                continue
            value = b"gzip"
        headers.append((name, value))
    return {**scope, "headers": headers}


class SecurityHeaders:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = _clean_scope(scope)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        https = request_scheme(scope) == "https"
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if message["status"] == 304 or scope["method"] == "HEAD":
                    # No body to hash, and a 304's headers replace the cached page's: keep its policy.
                    await send(message)
                    return
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", NOT_A_PAGE_CSP)
                    await send(message)
                    return
                held.append(message)
                return
            if held and message["type"] == "http.response.pathsend":
                # A server with the pathsend extension (granian) sends files by path: read the page here.
                page = await anyio.Path(message["path"]).read_bytes()
                message = {"type": "http.response.body", "body": page}
            if held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body", False):
                    return
                await self._send_page(scope, held, send)
                held.clear()
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _send_page(scope: Scope, messages: list[Message], send: Send) -> None:
        """A page's start and body, once the whole body is known: its CSP lists its scripts' hashes."""
        start, bodies = messages[0], messages[1:]
        body = b"".join(message.get("body", b"") for message in bodies)
        headers = MutableHeaders(scope=start)
        html = body
        if headers.get("content-encoding", "").strip().lower() == "gzip" and body:
            html = gzip.decompress(body)
        headers.setdefault("Content-Security-Policy", page_csp(html, request_origin(scope)))
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


def security_headers(app: ASGIApp) -> ASGIApp:
    """`SecurityHeaders` around `app`, for `rx.App(api_transformer=[...])`."""
    return SecurityHeaders(app)


if __name__ == "__main__":
    # python -m plivo_otp_app.security_headers .web/build/client https://api.example.com
    print(static_site_policy(Path(sys.argv[1]), sys.argv[2]))  # noqa: T201 - a command-line tool
