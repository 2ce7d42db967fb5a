"""`require_login` on a host app's event handler (only for a live session, checked in the database), and
the login page's return link (`?next=`, a local path)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from reflex.state import State
from wiring import use_services

from plivo_otp_app import Routes, require_login
from plivo_otp_app.cookies import SESSION_COOKIE
from plivo_otp_app.routes import configure, get_routes
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import login as login_module
from plivo_otp_app.state.login import LoginState, SignupState

PASSWORD = "correct horse battery staple quietly"


class HostNotesState(rx.State):
    """A host app's own state, with one gated handler of each kind."""

    saved: list[str] = []

    @rx.event
    @require_login
    async def save(self, note: str) -> None:
        self.saved.append(note)

    @rx.event
    @require_login
    def save_and_say(self, note: str) -> Any:
        self.saved.append(note)
        yield rx.redirect("/notes/saved")


@pytest.fixture
def user_id(accounts, monkeypatch) -> int:
    use_services(monkeypatch, accounts, auth_module, login_module)
    result = accounts.signups.signup("alice", None, PASSWORD, "+14155552671", "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    return result.user_id


@pytest.fixture
def routes() -> Any:
    before = get_routes()
    configure(Routes(login="/auth/login"))
    yield
    configure(before)


def _host(cookie: str | None) -> HostNotesState:
    root = State(_reflex_internal_init=True)
    state = root.get_substate(HostNotesState.get_full_name().split("."))
    headers = {"host": "127.0.0.1:3000", **({"cookie": cookie} if cookie is not None else {})}
    router = {"token": "tab-1", "pathname": "/notes", "asPath": "/notes?tab=2", "headers": headers}
    state.router = RouterData.from_router_data(router)
    return state


def _run(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [update async for update in handler]

    return asyncio.run(collect())


def _redirect_path(update: Any) -> str:
    return str(update.args[0][1]._var_value)


def test_a_live_session_runs_the_handler(accounts, user_id):
    token = accounts.sessions.create_session(user_id, "192.0.2.1", "test")
    state = _host(f"{SESSION_COOKIE}={token}")
    assert _run(HostNotesState.save.fn(state, "first")) == []
    assert [_redirect_path(u) for u in _run(HostNotesState.save_and_say.fn(state, "second"))] == [
        "/notes/saved"
    ]
    assert state.saved == ["first", "second"]


@pytest.mark.parametrize("cookie", [None, "", f"{SESSION_COOKIE}=not-a-session", "theme=dark"])
def test_no_live_session_runs_nothing_and_goes_to_the_mounted_login(accounts, user_id, routes, cookie):
    state = _host(cookie)
    updates = _run(HostNotesState.save.fn(state, "first")) + _run(HostNotesState.save_and_say.fn(state, "x"))
    assert state.saved == []
    assert [_redirect_path(u) for u in updates] == ["/auth/login?next=/notes%3Ftab%3D2"] * 2


def test_an_ended_session_runs_nothing(accounts, user_id):
    token = accounts.sessions.create_session(user_id, "192.0.2.1", "test")
    accounts.sessions.end(token)
    state = _host(f"{SESSION_COOKIE}={token}")
    _run(HostNotesState.save.fn(state, "first"))
    assert state.saved == []


def _page(cls: type[LoginState] | type[SignupState], root: State, as_path: str) -> LoginState | SignupState:
    state = root.get_substate(cls.get_full_name().split("."))
    headers = {"host": "127.0.0.1:3000", "origin": "http://127.0.0.1:3000", "cookie": "otp_browser=browser-A"}
    router = {"token": "tab-1", "pathname": as_path.split("?")[0], "asPath": as_path, "headers": headers}
    state.router = RouterData.from_router_data(router)
    return state


def _landing_of_sign_in(accounts, state: LoginState | SignupState, user_id: int) -> str:
    asyncio.run(state._sign_in(user_id))
    ticket = parse_qs(urlsplit(state.leaving_to).query)["ticket"][0]
    redeemed = accounts.sessions.redeem_ticket(ticket, "192.0.2.1", "t", browser="browser-A")
    assert redeemed is not None
    return redeemed.landing


@pytest.mark.parametrize(
    ("next_", "landing"),
    [
        ("/notes%3Ftab%3D2", "/notes?tab=2"),
        ("https%3A%2F%2Fevil.example%2F", "/auth/account"),
        ("%2F%2Fevil.example", "/auth/account"),
    ],
)
def test_a_login_lands_on_the_local_page_it_was_sent_from(accounts, user_id, routes, next_, landing):
    configure(Routes(login="/auth/login", account="/auth/account"))
    root = State(_reflex_internal_init=True)
    login = _page(LoginState, root, f"/auth/login?next={next_}")
    _run(login.load())
    assert _landing_of_sign_in(accounts, login, user_id) == f"http://127.0.0.1:3000{landing}"


def test_a_sign_up_after_a_login_page_lands_on_the_account_page(accounts, user_id, routes):
    configure(Routes(login="/auth/login", account="/auth/account"))
    root = State(_reflex_internal_init=True)
    _run(_page(LoginState, root, "/auth/login?next=/notes").load())
    signup = _page(SignupState, root, "/auth/signup")
    signup.load()
    assert _landing_of_sign_in(accounts, signup, user_id) == "http://127.0.0.1:3000/auth/account"
