"""The HTTP edge over real HTTP (uvicorn on loopback): security headers and who counts as a proxy.

The API and cookie routes are the app's own (`api_routes` on the real services and
sandbox), wrapped in `SecurityHeaders` as `rx.App(api_transformer=...)` wraps them;
two pages with inline scripts stand in for the exported frontend (the built one is
covered in tests/e2e/test_http_edge.py). Every client here connects from loopback,
so `TRUSTED_PROXIES` is narrowed to 127.0.0.2: a client bound to 127.0.0.1 is one that
reaches the app port directly, a client bound to 127.0.0.2 is the reverse proxy.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from plivo_otp_app import config
from plivo_otp_app.api import api_routes
from plivo_otp_app.security_headers import HSTS, SecurityHeaders, static_site_policy
from plivo_otp_app.services import Services

PROXY = "127.0.0.2"
EXTRA_ORIGIN = "https://frontend.example"
SCRIPTS = ("window.__a = 1;", 'import "/assets/x.js";\nwindow.__b = "\u00e9";')
PAGE = (
    "<!DOCTYPE html><html><head><script src=/assets/app.js></script>"
    f"<script>{SCRIPTS[0]}</script></head><body><script type=module async>{SCRIPTS[1]}</script>"
    f"<script>{SCRIPTS[0]}</script></body></html>"
).encode()


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


async def _page(_request: Request) -> Response:
    return HTMLResponse(PAGE)


async def _gzip_page(_request: Request) -> Response:
    return Response(gzip.compress(PAGE), media_type="text/html", headers={"Content-Encoding": "gzip"})


async def _not_modified(_request: Request) -> Response:
    return Response(status_code=304, headers={"ETag": '"page"'})


Client = Callable[..., httpx.Client]


@pytest.fixture
def edge(make_accounts, monkeypatch) -> Iterator[Client]:
    """Serve the app's routes behind `SecurityHeaders`; returns a client factory (`source=` address)."""
    monkeypatch.setenv("TRUSTED_PROXIES", PROXY)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")  # uvicorn must not rewrite the peer itself
    monkeypatch.setenv("REFLEX_CORS_ALLOWED_ORIGINS", EXTRA_ORIGIN)
    monkeypatch.setenv("REFLEX_TRUSTED_PROXY_HOPS", "1")  # read by the server thread's own Reflex config
    config.get_settings.cache_clear()
    accounts: Services = make_accounts(RATE_LIMIT_SEND_PER_IP="2/minute")
    routes = [
        *api_routes(lambda: accounts.verifications, lambda: accounts),
        Route("/page", _page),
        Route("/page-gz", _gzip_page),
        Route("/cached", _not_modified),
    ]
    port = free_port()
    server = serve(SecurityHeaders(Starlette(routes=routes)), port)
    clients: list[httpx.Client] = []

    def client(source: str = "127.0.0.1") -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=source)
        made = httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=15)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()
    server.should_exit = True
    monkeypatch.undo()
    config.get_settings.cache_clear()


def _sends(client: httpx.Client) -> list[int]:
    numbers = ("+14155552671", "+14155552672", "+14155552673")
    return [
        client.post(
            "/api/otp/send", json={"recipient": number}, headers={"X-Forwarded-For": f"198.51.100.{index}"}
        ).status_code
        for index, number in enumerate(numbers, start=1)
    ]


def test_forwarded_for_from_a_direct_client_does_not_escape_the_address_limit(edge, sandbox):
    assert _sends(edge("127.0.0.1")) == [200, 200, 429]
    assert sandbox.store.messages("+14155552673") == []


def test_forwarded_for_from_a_trusted_proxy_names_each_client(edge):
    assert _sends(edge(PROXY)) == [200, 200, 200]


def _assert_common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # plain http


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/health"), ("POST", "/api/otp/send"), ("GET", "/nowhere")]
)
def test_api_routes_and_404s_carry_the_headers(edge, method, path):
    response = edge().request(method, path, json={})
    _assert_common(response)
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["content-security-policy"].startswith("default-src 'none';")


@pytest.mark.parametrize("path", ["/api/session/logout?next=/login", "/api/session/complete?ticket=x"])
def test_cookie_routes_keep_their_own_headers_and_get_the_others(edge, path):
    response = edge().get(path)
    assert response.status_code == 303
    _assert_common(response)
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/page", "/page-gz"])
def test_a_page_allows_exactly_its_inline_scripts(edge, path):
    response = edge().get(path, headers={"Accept-Encoding": "gzip"})
    assert response.content == PAGE
    _assert_common(response)
    policy = dict(
        part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == f"'self' {_hash(SCRIPTS[0])} {_hash(SCRIPTS[1])}"
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    own = f"127.0.0.1:{response.url.port}"
    assert policy["connect-src"] == f"'self' http://{own} ws://{own} {EXTRA_ORIGIN} wss://frontend.example"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"


def test_a_forged_forwarded_host_does_not_enter_the_policy(edge):
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    direct = edge().get("/page", headers=forged)
    assert "evil.example" not in direct.headers["content-security-policy"]
    assert "strict-transport-security" not in direct.headers
    proxied = edge(PROXY).get(
        "/page", headers={"X-Forwarded-Host": "app.example", "X-Forwarded-Proto": "https"}
    )
    assert "https://app.example wss://app.example" in proxied.headers["content-security-policy"]


def test_hsts_only_under_https_from_a_trusted_proxy(edge):
    assert (
        "strict-transport-security"
        not in edge().get("/api/health", headers={"X-Forwarded-Proto": "https"}).headers
    )
    proxied = edge(PROXY).get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == HSTS
    assert "strict-transport-security" not in edge(PROXY).get("/api/health").headers


def test_a_304_keeps_the_cached_pages_policy(edge):
    """A 304's headers replace the cached page's: a policy without the page's hashes would break it."""
    response = edge().get("/cached")
    assert response.status_code == 304
    assert "content-security-policy" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_static_site_policy_lists_every_exported_pages_scripts(tmp_path):
    (tmp_path / "login").mkdir()
    (tmp_path / "index.html").write_bytes(PAGE)
    (tmp_path / "login" / "index.html").write_text("<script>window.__c = 3;</script>")
    policy = static_site_policy(tmp_path, "https://api.example.com:443/")
    assert f"script-src 'self' {_hash(SCRIPTS[0])} {_hash(SCRIPTS[1])} {_hash('window.__c = 3;')};" in policy
    assert "connect-src 'self' https://api.example.com wss://api.example.com;" in policy


def test_a_client_cannot_send_the_header_reflex_uses_for_the_raw_peer(edge):
    """The page's handlers read the socket's peer from `asgi-scope-client`; a client's own copy is dropped."""
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["headers"])
        await Response("ok")(scope, receive, send)

    port = free_port()
    server = serve(SecurityHeaders(app), port)
    try:
        httpx.get(f"http://127.0.0.1:{port}/", headers={"asgi-scope-client": "203.0.113.1", "X-Other": "1"})
    finally:
        server.should_exit = True
    names = [name for name, _value in seen[0]]
    assert b"asgi-scope-client" not in names and b"x-other" in names
