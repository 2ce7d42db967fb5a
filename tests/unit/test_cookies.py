"""Reading cookies: another site's or page's cookie on the host never hides the app's own."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app.cookies import SESSION_COOKIE, parse_cookies, read_cookie
from plivo_otp_app.state.auth import AuthState

#: Cookies other code on the host may set; the stdlib's SimpleCookie dropped the whole header for each.
FOREIGN = [
    'theme={"dark":true}',
    "note=a b",
    "path=x",
    "expires=Wed, 21 Oct 2015 07:28:00 GMT",
    "Max-Age=5",
    "secure",
    "a=b=c",
    'quoted="a;b"',
    "=empty-name",
    "\u00e9t\u00e9=\u00e9",
    "comma=a,b",
]


@pytest.mark.parametrize("foreign", FOREIGN)
@pytest.mark.parametrize("where", ["before", "after", "both"])
def test_the_session_cookie_is_read_beside_any_foreign_cookie(foreign: str, where: str):
    own = f"{SESSION_COOKIE}=tok_123-ABC"
    parts = {"before": [foreign, own], "after": [own, foreign], "both": [foreign, own, foreign]}[where]
    header = "; ".join(parts)
    assert read_cookie(header, SESSION_COOKIE) == "tok_123-ABC"


def test_every_cookie_is_read_with_its_own_value():
    header = 'theme={"dark":true}; note=a b; otp_session=s1; otp_device=d1'
    cookies = parse_cookies(header)
    assert cookies["theme"] == '{"dark":true}' and cookies["note"] == "a b"
    assert cookies["otp_session"] == "s1" and cookies["otp_device"] == "d1"


@pytest.mark.parametrize("header", [None, "", ";;", "otp_session=", "other=1"])
def test_no_session_cookie_is_none(header: str | None):
    assert read_cookie(header, SESSION_COOKIE) is None


def test_a_state_handler_reads_the_session_from_the_handshake_beside_foreign_cookies():
    root = State(_reflex_internal_init=True)
    state = root.get_substate(AuthState.get_full_name().split("."))
    cookie = 'theme={"dark":true}; note=a b; path=x; otp_session=handshake-token; otp_device=dev'
    state.router = RouterData.from_router_data({"token": "tab-1", "headers": {"cookie": cookie}})
    assert state._session_token() == "handshake-token"
    assert state._device_token() == "dev"
