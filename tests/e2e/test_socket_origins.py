"""Who may open the state socket of the built app, over a real WebSocket handshake.

The app runs on a random port (conftest), never listed in REFLEX_CORS_ALLOWED_ORIGINS:
its own origin is accepted anyway, the one listed origin too, any other refused. The
server trusts X-Forwarded-* only from 127.0.0.2; these clients connect from 127.0.0.1
(a client reaching the app port directly) unless they bind 127.0.0.2 (the proxy).
The whole e2e suite, whose pages must connect, proves the same in the browser.
"""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

from conftest import EXTRA_ORIGIN, PROXY_ADDRESS

FOREIGN = "http://evil.example"


def _handshake(app_url: str, origin: str, source: str = "127.0.0.1", **headers: str) -> str:
    """The status line the server answers to a WebSocket upgrade of the state socket."""
    parts = urlsplit(app_url)
    lines = [
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Key: {base64.b64encode(b'0123456789abcdef').decode()}",
        f"Origin: {origin}",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(
        (parts.hostname, parts.port), timeout=10, source_address=(source, 0)
    ) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_the_pages_own_origin_opens_the_socket_on_any_port(app_url):
    assert urlsplit(app_url).port not in (3000, 8000)
    assert " 101 " in _handshake(app_url, app_url)


def test_a_listed_origin_opens_the_socket(app_url):
    assert " 101 " in _handshake(app_url, EXTRA_ORIGIN)


def test_a_foreign_origin_is_refused(app_url):
    assert " 101 " not in _handshake(app_url, FOREIGN)
    port = urlsplit(app_url).port
    assert " 101 " not in _handshake(app_url, f"http://localhost:{port + 1}")  # same site, another port


def test_a_forged_forwarded_host_from_a_direct_client_is_refused(app_url):
    forged = {"X_Forwarded_Host": "evil.example", "X_Forwarded_Proto": "http"}
    assert " 101 " not in _handshake(app_url, FOREIGN, **forged)


def test_the_forwarded_host_of_a_trusted_proxy_counts(app_url):
    proxied = {"X_Forwarded_Host": "app.example", "X_Forwarded_Proto": "https"}
    assert " 101 " in _handshake(app_url, "https://app.example", PROXY_ADDRESS, **proxied)
    assert " 101 " not in _handshake(app_url, FOREIGN, PROXY_ADDRESS, **proxied)
