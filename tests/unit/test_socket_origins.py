"""Which pages may open the state socket, as engineio asks `allow_origin`."""

from __future__ import annotations

import pytest

from plivo_otp_app.socket_origins import allow_origin


def _handshake(host: str, peer: str = "198.51.100.7") -> dict:
    """The WSGI-style environ engineio passes, with the ASGI scope of a socket request to `host`."""
    scope = {"type": "http", "scheme": "http", "client": (peer, 50000), "headers": [(b"host", host.encode())]}
    return {"asgi.scope": scope}


def test_the_page_s_own_origin_is_allowed_on_any_port(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    assert allow_origin("http://app.example:8080", _handshake("app.example:8080"))


@pytest.mark.parametrize("origin", ["http://app.example:3100", "http://evil.example:8080", "null", "", None])
def test_in_production_another_port_or_host_is_refused(monkeypatch, origin):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    assert not allow_origin(origin, _handshake("app.example:8080"))


def test_the_development_frontend_on_any_port_of_the_socket_s_host_is_allowed(monkeypatch):
    """`reflex run --frontend-port 3100`, or 3000 taken: the page is on another port of the same host."""
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    assert allow_origin("http://localhost:3100", _handshake("localhost:8000"))
    assert allow_origin("http://localhost:3001", _handshake("localhost:8000"))


@pytest.mark.parametrize(
    "origin", ["http://evil.example:3100", "http://localhost.evil.example:3000", "http://[::1"]
)
def test_in_development_another_host_is_still_refused(monkeypatch, origin):
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    assert not allow_origin(origin, _handshake("localhost:8000"))
