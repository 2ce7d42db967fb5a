"""Where a cookie route sends the browser: pages of the app's own frontends, matched exactly."""

from __future__ import annotations

import pytest

from plivo_otp_app.landings import Frontends, landing, local_path

#: One port: the backend serves the pages at its own origin.
ONE_PORT = Frontends(own="http://localhost:3501", listed=(), serves_pages=True)
#: The README's split deployment: pages on a static site, the backend (this request) elsewhere.
SPLIT = Frontends(own="https://api.example.com", listed=("https://www.example.com",), serves_pages=False)

KEPT_ON_ONE_PORT = [
    "/account",
    "/login?x=1#y",
    "http://localhost:3501/account",
    "http://LOCALHOST:3501/account",
]
REFUSED_ON_ONE_PORT = [
    "http://localhost:3502/x",  # same host, another port
    "https://localhost:3501/x",  # same host and port, another scheme
    "http://localhost/x",
    "http://localhost:3501@evil.example/x",
    "http://evil.example@localhost:3501/x",  # userinfo: not a page link
    "//evil.example/x",
    "/\\evil.example/x",  # a browser reads "/\" as "//"
    "/\t/evil.example/x",  # and drops tabs and newlines
    "http:\\\\evil.example/x",
    "https://evil.example/account",
    "javascript:alert(1)",
    "data:text/html,x",
    "account",
    "http://localhost:99999/x",
    "http://[::1",
    "",
]


@pytest.mark.parametrize("value", KEPT_ON_ONE_PORT)
def test_one_port_keeps_its_own_pages(value: str):
    assert landing(value, ONE_PORT, "/") == value


@pytest.mark.parametrize("value", REFUSED_ON_ONE_PORT)
def test_one_port_sends_anything_else_to_the_default_path(value: str):
    assert landing(value, ONE_PORT, "/login") == "/login"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.example.com/account", "https://www.example.com/account"),
        ("https://www.example.com:443/account", "https://www.example.com:443/account"),
        ("/account", "https://www.example.com/account"),  # a path is the frontend's, not the backend's
        ("https://www.example.com:8443/account", "https://www.example.com/"),
        ("http://www.example.com/account", "https://www.example.com/"),
        ("https://evil.example.com/account", "https://www.example.com/"),
        ("//evil.example/x", "https://www.example.com/"),
        ("https://api.example.com/x", "https://api.example.com/x"),  # the request's own origin
    ],
)
def test_split_deployment_lands_on_the_static_site(value: str, expected: str):
    assert landing(value, SPLIT, "/") == expected


@pytest.mark.parametrize("value", ["/notes", "/notes?tab=2", "/"])
def test_a_return_link_keeps_a_local_path(value: str):
    assert local_path(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "notes", "//evil.example/x", "/\\evil.example", "https://evil.example/", "/a b", "/a\tb", None, 7],
)
def test_a_return_link_drops_anything_else(value: object):
    assert local_path(value) == ""
