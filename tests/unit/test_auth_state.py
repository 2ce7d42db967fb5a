"""`AuthState._sign_in`: the ticket it issues is bound to the browser cookie of its socket handshake."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app.errors import BrowserUnknown
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state.auth import AuthState

PASSWORD = "correct horse battery staple quietly"


def _state(cookie: str | None) -> AuthState:
    root = State(_reflex_internal_init=True)
    state = root.get_substate(AuthState.get_full_name().split("."))
    headers = {"host": "127.0.0.1:3000", **({"cookie": cookie} if cookie is not None else {})}
    router = {"token": "tab-1", "pathname": "/login", "asPath": "/login", "headers": headers}
    state.router = RouterData.from_router_data(router)
    return state


@pytest.fixture
def user_id(accounts, monkeypatch) -> int:
    monkeypatch.setattr(auth_module, "get_session_service", lambda: accounts.sessions)
    result = accounts.signups.signup("alice", None, PASSWORD, "+14155552671", "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    return result.user_id


def _ticket(state: AuthState) -> str:
    return parse_qs(urlsplit(state.leaving_to).query)["ticket"][0]


def test_the_ticket_is_redeemed_only_with_the_handshakes_browser_cookie(accounts, user_id):
    state = _state('theme={"dark":true}; otp_browser=browser-A')
    asyncio.run(state._sign_in(user_id))
    ticket = _ticket(state)
    assert accounts.sessions.redeem_ticket(ticket, "192.0.2.1", "t", browser="browser-B") is None
    assert accounts.sessions.redeem_ticket(ticket, "192.0.2.1", "t") is None  # bound: never unbound
    redeemed = accounts.sessions.redeem_ticket(ticket, "192.0.2.1", "t", browser="browser-A")
    assert redeemed is not None and redeemed.user_id == user_id


def test_the_host_only_browser_cookie_wins_over_a_tossed_one(accounts, user_id):
    state = _state("otp_browser=tossed; __Host-otp_browser=own")
    asyncio.run(state._sign_in(user_id))
    assert accounts.sessions.redeem_ticket(_ticket(state), "192.0.2.1", "t", browser="own") is not None


@pytest.mark.parametrize("cookie", [None, "", "otp_session=x; theme=dark"])
def test_no_browser_cookie_issues_no_ticket(accounts, user_id, cookie):
    state = _state(cookie)
    with pytest.raises(BrowserUnknown):
        asyncio.run(state._sign_in(user_id))
    assert state.leaving_to == ""
    assert BrowserUnknown("x").user_message().startswith("This browser was not recognised.")


def test_a_sign_in_page_without_the_browser_cookie_fetches_it_once():
    state = _state("theme=dark")
    state.router = RouterData.from_router_data(
        {"token": "tab-1", "pathname": "/login", "asPath": "/login", "headers": {"host": "api.example.com"}}
    )
    state.know_browser()
    assert "/api/session/browser?next=" in state.leaving_to
    state.leaving_to = ""
    state.know_browser()
    assert state.leaving_to == ""  # once per tab: a browser that keeps no cookie is not sent round again


def test_a_sign_in_page_with_the_browser_cookie_stays():
    state = _state("otp_browser=browser-A")
    state.know_browser()
    assert state.leaving_to == ""
