"""The browser cookie over real HTTP and WebSocket handshakes (uvicorn on loopback).

`BrowserCookie` must give a browser its cookie before the state socket connects:
on a page it loads from the backend (one port), or on the socket handshake itself
(a split deployment, whose pages come from elsewhere), where the handlers must see
the very value the browser is told to keep.
"""

from __future__ import annotations

import base64
import os
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

from plivo_otp_app.cookies import BrowserCookie, browser_from_handshake, parse_cookies

#: The `Cookie` header each socket handshake reached the app with, as the state handlers get it.
seen: list[str] = []


async def _page(_request: Request) -> Response:
    return HTMLResponse("<!DOCTYPE html><title>page</title>")


async def _json(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _socket(websocket: WebSocket) -> None:
    seen.append("; ".join(v.decode() for k, v in websocket.scope["headers"] if k == b"cookie"))
    await websocket.accept()
    await websocket.close()


@pytest.fixture
def server() -> Iterator[int]:
    app = Starlette(routes=[Route("/page", _page), Route("/api", _json), WebSocketRoute("/_event", _socket)])
    port = free_port()
    running = serve(BrowserCookie(app), port)
    seen.clear()
    yield port
    running.should_exit = True


def _handshake(port: int, cookie: str | None) -> list[tuple[str, str]]:
    """A browser's WebSocket opening handshake; the answer's headers."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /_event HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *([f"Cookie: {cookie}"] if cookie is not None else []),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(4096)
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0].startswith("HTTP/1.1 101"), head
    return [(name.lower(), value.strip()) for name, value in (line.split(":", 1) for line in head[1:])]


def _set_cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def test_a_page_to_a_new_browser_sets_the_browser_cookie_and_other_responses_do_not(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server}") as http:
        page = http.get("/page")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("otp_browser=") and "HttpOnly" in cookie and "Path=/" in cookie
        assert "SameSite=lax" in cookie and "Secure" not in cookie and "Max-Age=43200" in cookie
        assert len(_set_cookie_value(cookie)) >= 43  # 256 random bits
        assert "set-cookie" not in http.get("/api", headers={"Cookie": ""}).headers
        again = http.get("/page", headers={"Cookie": f"a=b; otp_browser={_set_cookie_value(cookie)}"})
        assert "set-cookie" not in again.headers  # a browser that has one keeps it


def test_a_socket_handshake_without_it_gets_one_and_the_handlers_see_that_same_value(server):
    headers = _handshake(server, 'theme={"dark":true}')
    [set_cookie] = [value for name, value in headers if name == "set-cookie"]
    assert set_cookie.startswith("otp_browser=") and "HttpOnly" in set_cookie
    value = _set_cookie_value(set_cookie)
    assert browser_from_handshake(seen[-1]) == value
    assert parse_cookies(seen[-1])["theme"] == '{"dark":true}'  # the browser's own cookies stay


def test_a_socket_handshake_with_it_is_left_alone(server):
    headers = _handshake(server, "otp_browser=kept-value")
    assert not [value for name, value in headers if name == "set-cookie"]
    assert browser_from_handshake(seen[-1]) == "kept-value"


def test_each_new_browser_gets_its_own_value(server):
    values = {_set_cookie_value(dict(_handshake(server, None))["set-cookie"]) for _ in range(3)}
    assert len(values) == 3
