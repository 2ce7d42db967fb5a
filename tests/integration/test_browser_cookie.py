"""The pre-login browser cookie over real HTTP: every page hands a browser without one a fresh one.

The state handlers tie a sign-up or login in progress to this HttpOnly cookie
(tests/unit/test_tab_tokens.py); here: it is set on pages and socket handshakes
only, once, random, HttpOnly and SameSite=Lax, and Secure when the browser came
over https.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from conftest import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection
from wsproto.events import Request as WsRequest

from plivo_otp_app import config
from plivo_otp_app.browser_cookie import BROWSER_COOKIE, BrowserCookie


async def _page(_request: Request) -> Response:
    return HTMLResponse("<!DOCTYPE html><p>page</p>")


async def _json(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


@pytest.fixture
def base_url() -> Iterator[str]:
    port = free_port()
    routes = [Route("/login", _page), Route("/api/thing", _json), WebSocketRoute("/_event/", _socket)]
    server = serve(BrowserCookie(Starlette(routes=routes)), port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True


def _set_cookies(response: httpx.Response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{BROWSER_COOKIE}=")]


def test_a_page_gives_a_browser_without_the_cookie_a_random_httponly_one(base_url):
    first = _set_cookies(httpx.get(f"{base_url}/login"))
    second = _set_cookies(httpx.get(f"{base_url}/login"))
    assert len(first) == len(second) == 1
    value = first[0].split(";")[0].split("=", 1)[1]
    assert len(value) >= 43 and value not in second[0]  # 256 random bits, new for each browser
    attributes = {a.strip().lower() for a in first[0].split(";")[1:]}
    assert attributes == {"path=/", "httponly", "samesite=lax"}  # plain http: not Secure


def test_a_browser_that_has_the_cookie_keeps_it(base_url):
    response = httpx.get(f"{base_url}/login", headers={"Cookie": f'note="a b"; {BROWSER_COOKIE}=kept'})
    assert _set_cookies(response) == []


def test_no_cookie_on_what_is_not_a_page(base_url):
    assert _set_cookies(httpx.get(f"{base_url}/api/thing")) == []


def test_secure_under_https_behind_a_trusted_proxy(base_url, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    config.get_settings.cache_clear()
    try:
        [cookie] = _set_cookies(httpx.get(f"{base_url}/login", headers={"X-Forwarded-Proto": "https"}))
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
    assert "; Secure" in cookie


def _handshake(base_url: str, cookie: str = "") -> list[str]:
    """The Set-Cookie headers of a WebSocket handshake's answer (wsproto over a plain socket)."""
    host, port = base_url.removeprefix("http://").split(":")
    ws = WSConnection(ConnectionType.CLIENT)
    extra = [(b"cookie", cookie.encode())] if cookie else []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(ws.send(WsRequest(host=f"{host}:{port}", target="/_event/", extra_headers=extra)))
        while True:
            ws.receive_data(sock.recv(4096))
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    headers = [(k.decode(), v.decode()) for k, v in event.extra_headers]
                    return [v for k, v in headers if k.lower() == "set-cookie"]


def test_the_state_socket_handshake_gives_a_browser_without_the_cookie_one(base_url):
    [cookie] = _handshake(base_url)
    assert cookie.startswith(f"{BROWSER_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert _handshake(base_url, f"{BROWSER_COOKIE}=kept") == []
