"""The browser cookie over real HTTP (uvicorn on loopback).

A browser must have its cookie before the state socket connects: from a page the backend
serves (`BrowserCookie`, one port), or from `GET /api/session/browser`, where a page served
elsewhere (a split deployment's static site) sends the browser once.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from plivo_otp_app.api import build_api
from plivo_otp_app.cookies import BrowserCookie


async def _page(_request: Request) -> Response:
    return HTMLResponse("<!DOCTYPE html><title>page</title>")


async def _json(_request: Request) -> Response:
    return JSONResponse({"ok": True})


@pytest.fixture
def server() -> Iterator[int]:
    app = Starlette(routes=[Route("/page", _page), Route("/api", _json)])
    port = free_port()
    running = serve(BrowserCookie(app), port)
    yield port
    running.should_exit = True


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


@pytest.fixture
def backend(accounts, monkeypatch) -> Iterator[httpx.Client]:
    """The split deployment's backend; its pages are on SITE."""
    monkeypatch.setenv("REFLEX_CORS_ALLOWED_ORIGINS", SITE)
    port = free_port()
    running = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield http
    running.should_exit = True


SITE = "http://127.0.0.1:3502"


def test_the_browser_route_sets_a_fresh_cookie_and_sends_the_page_back(backend):
    first = backend.get("/api/session/browser", params={"next": f"{SITE}/login"})
    assert first.status_code == 303 and first.headers["location"] == f"{SITE}/login"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("otp_browser=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    value = _set_cookie_value(cookie)
    kept = backend.get("/api/session/browser", headers={"Cookie": f"otp_browser={value}"})
    assert "set-cookie" not in kept.headers  # a browser that has one keeps it
    backend.cookies.clear()
    chosen = backend.get(
        "/api/session/browser", params={"otp_browser": "mine", "next": "https://evil.example/"}
    )
    assert "mine" not in chosen.headers["set-cookie"] and chosen.headers["location"] == f"{SITE}/"
