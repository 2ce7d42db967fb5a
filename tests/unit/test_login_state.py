"""The sign-up and log-in forms' State handlers with hostile text, on the real services and sandbox.

A browser can send any value in any form field (a lone surrogate, NUL, a megabyte,
a list): each gets a sentence that says what to fix, never the generic "Something
went wrong", and nothing is created or sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app.errors import OtpError, ServiceUnavailable
from plivo_otp_app.models import User
from plivo_otp_app.state import login as login_module
from plivo_otp_app.state.login import LoginState, SignupState

PASSWORD = "correct horse battery staple quietly"
GENERIC = (OtpError("x").user_message(), ServiceUnavailable("x").user_message())
HOSTILE_TEXT = ["\ud800", "a\udfffb", "al\x00ice", "\x00", "a" * 100_000, "\u202ealice", "alice\r\nbob"]


def _drain(handler: AsyncIterator[Any]) -> None:
    async def collect() -> None:
        async for _ in handler:
            pass

    asyncio.run(collect())


@pytest.fixture
def root(accounts, monkeypatch) -> State:
    """A whole state tree, as the socket has it, on the test's account service."""
    monkeypatch.setattr(login_module, "get_account_service", lambda: accounts)
    return State(_reflex_internal_init=True)


def _form(root: State, cls: type[LoginState] | type[SignupState]) -> LoginState | SignupState:
    state = root.get_substate(cls.get_full_name().split("."))
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1"})
    return state


def _users(accounts) -> list[User]:
    with accounts.db() as db:
        return list(db.query(User).all())


def _assert_explained(state: LoginState | SignupState) -> None:
    assert state.error and state.error not in GENERIC, state.error
    assert not state.loading


@pytest.mark.parametrize("username", HOSTILE_TEXT)
def test_login_with_hostile_username_is_explained(root, accounts, username):
    state = _form(root, LoginState)
    _drain(state.submit({"username": username, "password": PASSWORD}))
    _assert_explained(state)


@pytest.mark.parametrize("password", ["\ud800" * 20, "\x00" * 20, "p" * 100_000])
def test_login_with_hostile_password_is_explained(root, accounts, password):
    state = _form(root, LoginState)
    _drain(state.submit({"username": "alice", "password": password}))
    _assert_explained(state)


@pytest.mark.parametrize(
    "field",
    ["username", "email", "password", "phone", "country", "channel"],
)
@pytest.mark.parametrize("text", [*HOSTILE_TEXT, ["x"], {"a": 1}, 12])
def test_signup_with_hostile_field_is_explained_and_creates_nothing(root, accounts, sandbox, field, text):
    form = {
        "username": "alice",
        "email": "alice@example.org",
        "password": PASSWORD,
        "phone": "+14155552671",
        "country": "US",
        "channel": "sms",
    }
    state = _form(root, SignupState)
    _drain(state.submit({**form, field: text}))
    _assert_explained(state)
    assert _users(accounts) == []
    assert sandbox.store.messages() == []


def test_signup_with_a_surrogate_in_the_email_is_refused_in_words(root, accounts, sandbox):
    state = _form(root, SignupState)
    form = {"username": "alice", "email": "a\ud800@example.org", "password": PASSWORD}
    _drain(state.submit({**form, "phone": "+14155552671", "country": "US", "channel": "sms"}))
    assert state.error == "Enter a valid email address, or leave it empty."
