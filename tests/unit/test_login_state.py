"""The sign-up and log-in forms' State handlers with hostile text, on the real services and sandbox.

A browser can send any value in any form field (a lone surrogate, NUL, a megabyte,
a list): each gets a sentence that says what to fix, never the generic "Something
went wrong", and nothing is created or sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import altcha
import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from wiring import use_services

from plivo_otp_app.errors import OtpError, ServiceUnavailable
from plivo_otp_app.models import User
from plivo_otp_app.state import account as account_module
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import login as login_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.account import AccountState
from plivo_otp_app.state.login import LoginState, SignupState
from plivo_otp_app.state.verify import VerifyState

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
    use_services(monkeypatch, accounts, login_module)
    return State(_reflex_internal_init=True)


def _form(root: State, cls: type[Any]) -> Any:
    state = root.get_substate(cls.get_full_name().split("."))
    headers = {"cookie": "otp_browser=a-browser"}
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1", "headers": headers})
    return state


def _users(accounts) -> list[User]:
    with accounts.users.db() as db:
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


@pytest.fixture
def account_page(root, accounts, sandbox, monkeypatch) -> AccountState:
    """The account page of a signed-in user with a verified phone."""
    use_services(monkeypatch, accounts, account_module, auth_module)
    result = accounts.signups.signup(
        "alice", "alice@example.org", PASSWORD, "+14155552671", "US", "sms", "192.0.2.1"
    )
    assert result.user_id is not None
    code = sandbox.code_for("+14155552671")
    accounts.signups.finish_signup(result.user_id, result.started.verification_id, code, "192.0.2.1")
    token = accounts.sessions.create_session(result.user_id, "192.0.2.1", "test")
    state = root.get_substate(AccountState.get_full_name().split("."))
    state.router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-1", "headers": {"cookie": f"otp_session={token}"}}
    )
    return state


@pytest.mark.parametrize("device_id", ["²", "١", "9" * 5000, "99999999999999999999999", "\ud800", "\x00"])
def test_revoking_a_hostile_device_id_changes_nothing_and_says_nothing_went_wrong(account_page, device_id):
    _drain(account_page.revoke_device(device_id))
    assert account_page.error not in GENERIC, account_page.error


@pytest.mark.parametrize("field", ["password", "phone", "country", "channel"])
@pytest.mark.parametrize("text", [*HOSTILE_TEXT, ["x"], 12])
def test_change_phone_with_hostile_text_is_explained(account_page, sandbox, field, text):
    form = {"password": PASSWORD, "phone": "+14155550123", "country": "US", "channel": "sms"}
    _drain(account_page.change_phone({**form, field: text}))
    assert account_page.error and account_page.error not in GENERIC, account_page.error


@pytest.mark.parametrize("text", [*HOSTILE_TEXT, ["x"], 12])
def test_password_forms_with_hostile_text_are_explained(account_page, text):
    _drain(account_page.generate_backup_codes({"password": text}))
    assert account_page.error and account_page.error not in GENERIC, account_page.error
    _drain(account_page.disable_2fa({"password": text}))
    assert account_page.error and account_page.error not in GENERIC, account_page.error
    _drain(account_page.confirm_phone_change({"password": text}))
    assert account_page.error and account_page.error not in GENERIC, account_page.error


@pytest.mark.parametrize("field", ["phone", "country", "channel"])
@pytest.mark.parametrize("text", [*HOSTILE_TEXT, ["x"], 12])
def test_new_phone_with_hostile_text_is_explained(account_page, sandbox, field, text):
    form = {"phone": "+14155550123", "country": "US", "channel": "sms"}
    _drain(account_page.send_new_phone_code({**form, field: text}))
    assert account_page.error and account_page.error not in GENERIC, account_page.error


def test_a_login_whose_code_was_refused_says_on_the_page_that_none_was_sent(
    make_accounts, sandbox, monkeypatch
):
    accounts = make_accounts(RATE_LIMIT_SEND_PER_ACCOUNT="1/hour")
    use_services(monkeypatch, accounts, login_module)
    result = accounts.signups.signup("alice", None, PASSWORD, "+14155552671", "US", "sms", "198.51.100.7")
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for("+14155552671"), "198.51.100.7"
    )
    started = accounts.account_changes.start_enable_2fa(
        result.user_id, "sms", "198.51.100.7"
    )  # the hour's one code
    accounts.account_changes.finish_enable_2fa(
        result.user_id, started.verification_id, sandbox.code_for("+14155552671"), "x"
    )
    root = State(_reflex_internal_init=True)
    form = _form(root, LoginState)

    _drain(form.submit({"username": "alice", "password": PASSWORD}))

    verify = root.get_substate(VerifyState.get_full_name().split("."))
    assert verify.error.startswith("We could not send you a code. Too many codes sent."), verify.error
    assert "in 59 min" in verify.error or "in 1 h" in verify.error
    assert verify.error.endswith("You can use a backup code.")


def test_a_signup_whose_code_is_held_for_a_challenge_sends_it_once_the_page_solved_it(
    make_accounts, monkeypatch, sandbox
):
    accounts = make_accounts(PUMPING_CHALLENGE_PREFIXES="+1415")
    use_services(monkeypatch, accounts, login_module, verify_module, auth_module)
    root = State(_reflex_internal_init=True)
    signup = _form(root, SignupState)
    form = {"username": "carol", "email": "", "password": PASSWORD, "phone": "(415) 555-2671"}
    _drain(signup.submit({**form, "country": "US", "channel": "sms"}))
    verify = _form(root, VerifyState)
    assert signup.error == "" and not signup.loading
    assert verify.flow == "signup" and not verify.code_sent and verify.challenge  # the number step, solving
    assert sandbox.store.messages() == [] and [u.username for u in _users(accounts)] == ["carol"]

    challenge = altcha.Challenge.from_dict(json.loads(verify.challenge))
    answer = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    _drain(verify.challenge_solved(answer))
    assert verify.code_sent and verify.challenge == "" and verify.error == ""
    _drain(verify.verify_code({"otp": sandbox.code_for("+14155552671")}))
    assert verify.verified
    assert _users(accounts)[0].is_phone_verified


def test_a_login_remembers_the_page_it_came_from_even_before_its_load_ran(root, accounts):
    """The return path is read from the URL the form was sent from, not only by the page's load."""
    state = _form(root, LoginState)
    state.router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-1", "headers": {}, "asPath": "/login?next=/notes"}
    )
    _drain(state.submit({"username": "nobody", "password": PASSWORD}))
    assert state._landing() == "/notes"
    state.router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-1", "headers": {}, "asPath": "/login?next=https://evil.example/"}
    )
    _drain(state.submit({"username": "nobody", "password": PASSWORD}))
    assert state._landing() == "/notes"  # only a local path, never another site
