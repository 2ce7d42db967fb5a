"""`require_login` on a host app's event handler: it runs only for a live session, checked in the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app import Routes, require_login
from plivo_otp_app.cookies import SESSION_COOKIE
from plivo_otp_app.routes import configure, get_routes
from plivo_otp_app.state import auth as auth_module

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
    monkeypatch.setattr(auth_module, "get_session_service", lambda: accounts.sessions)
    result = accounts.signup("alice", None, PASSWORD, "+14155552671", "US", "sms", "192.0.2.1")
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
