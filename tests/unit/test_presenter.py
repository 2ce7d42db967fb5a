"""One error presenter for every state: the same failure reads the same on every page, an
unexpected one is logged once and never shown, and no button is left busy.

The cases are the ones where the states' three wrappers disagreed. Real services, SDK, sandbox
and SQLite; a database outage is a database file that cannot be opened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from wiring import use_services

from plivo_otp_app.errors import LoginExpired, RateLimited, TooManyAttempts
from plivo_otp_app.messages import OUTAGE, SESSION_ENDED
from plivo_otp_app.state import account as account_module
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import login as login_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.account import AccountState
from plivo_otp_app.state.login import LoginState
from plivo_otp_app.state.presenter import present
from plivo_otp_app.state.verify import VerifyState

PASSWORD = "correct horse battery staple quietly"
NUMBER = "+14155552671"
NEW_NUMBER = "+14155550123"
BROWSER_A = "otp_browser=browser-a-cookie-value"


def _drain(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in handler]

    return asyncio.run(collect())


@pytest.fixture
def tab(accounts, monkeypatch) -> State:
    use_services(monkeypatch, accounts, login_module, verify_module, account_module, auth_module)
    return State(_reflex_internal_init=True)


def _sub(tab: State, cls: type) -> Any:
    return tab.get_substate(cls.get_full_name().split("."))


def _signed_in(tab: State, accounts, sandbox) -> tuple[int, str]:
    result = accounts.signups.signup("alice", "alice@example.org", PASSWORD, NUMBER, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(NUMBER), "192.0.2.1"
    )
    token = accounts.sessions.create_session(result.user_id, "192.0.2.1", "browser A")
    headers = {"asgi-scope-client": "198.51.100.7", "cookie": f"{BROWSER_A}; otp_session={token}"}
    tab.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-a", "headers": headers})
    return result.user_id, token


def _database_gone(service: Any, tmp_path) -> None:
    service._db_url = f"sqlite:///{tmp_path / 'gone' / 'no.db'}"  # a directory that does not exist


def _internal_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "internal_error"]


def test_an_ended_session_reads_the_same_in_an_account_flow_and_on_the_account_page(tab, accounts, sandbox):
    """The code step of an account change used to say "Please sign in again." in its error
    line, which the account page hides once the flow is over: nothing was seen."""
    _, token = _signed_in(tab, accounts, sandbox)
    page = _sub(tab, AccountState)
    form = {"password": PASSWORD, "phone": NEW_NUMBER, "country": "US", "channel": "sms"}
    _drain(page.change_phone(form))
    verify = _sub(tab, VerifyState)
    assert verify.code_sent and verify.flow == "change-phone", page.error
    accounts.sessions.end(token)

    _drain(verify.verify_code({"otp": sandbox.code_for(NEW_NUMBER)}))
    assert not verify.code_sent and not verify.loading
    assert verify.notice == SESSION_ENDED  # on every page (`#notice`), after the flow is gone

    _drain(page.sign_out_others())
    assert page.error == SESSION_ENDED and not page.signed_in and not page.loading


def test_an_unexpected_failure_on_the_account_page_is_logged_once_and_not_shown(
    tab, accounts, sandbox, tmp_path, caplog
):
    _signed_in(tab, accounts, sandbox)
    page = _sub(tab, AccountState)
    _drain(page.load())
    assert page.signed_in
    _database_gone(accounts.sessions, tmp_path)
    caplog.set_level(logging.INFO, logger="plivo_otp_app")

    _drain(page.sign_out_others())

    assert page.error == OUTAGE and not page.loading
    [record] = _internal_errors(caplog)
    assert record.fields == {"error": "OperationalError"}


def test_a_logout_during_an_outage_says_so_and_leaves_nobody_half_signed_out(
    tab, accounts, sandbox, tmp_path, caplog
):
    """A logout whose session could not be ended used to raise out of the handler."""
    _signed_in(tab, accounts, sandbox)
    page = _sub(tab, AccountState)
    _drain(page.load())
    _database_gone(accounts.sessions, tmp_path)
    caplog.set_level(logging.INFO, logger="plivo_otp_app")

    _drain(page.logout())

    assert page.error == OUTAGE and page.signed_in and page.leaving_to == ""
    assert len(_internal_errors(caplog)) == 1


def test_an_unexpected_failure_at_login_is_logged_once_and_leaves_the_form_usable(
    tab, accounts, tmp_path, caplog
):
    _database_gone(accounts.users, tmp_path)
    tab.router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-a", "headers": {"cookie": BROWSER_A}}
    )
    login = _sub(tab, LoginState)
    caplog.set_level(logging.INFO, logger="plivo_otp_app")

    _drain(login.submit({"username": "alice", "password": PASSWORD}))

    assert login.error == OUTAGE and not login.loading
    assert len(_internal_errors(caplog)) == 1
    assert not _sub(tab, VerifyState).code_sent


def test_the_words_never_carry_the_exception():
    shown = present(RuntimeError("secret detail: token=abc"))
    assert "secret" not in shown.error and "RuntimeError" not in shown.error
    assert shown.error == "Something went wrong. Please try again."


def test_a_code_that_can_take_no_more_tries_waits_for_the_next_code():
    shown = present(TooManyAttempts(retry_after=120))
    assert shown.code_dead and shown.resend_after == 120 and shown.wait_seconds == 120
    limited = present(RateLimited(60, "send-number"))
    assert not limited.code_dead and limited.resend_after is None and limited.wait_scope == "send-number"
    over = present(LoginExpired("gone"))
    assert over.flow_over and over.notice and over.error == ""
