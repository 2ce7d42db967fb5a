"""A Reflex tab token is not a password: the State handlers with the token of another browser's tab.

Reflex keeps a tab's server state under its client token (sessionStorage, and the
socket URL, so proxy logs hold it); whoever presents the token gets that state and
its handlers. Here one state tree is "the tab", and a new connection with the same
token but other cookies is the same tree with another router (Reflex builds the
router from each socket's handshake headers). Real services, SDK and sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from sqlmodel import select
from wiring import use_services

from plivo_otp_app.errors import BrowserUnknown
from plivo_otp_app.models import AuthSession, LoginTicket, User
from plivo_otp_app.state import account as account_module
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import login as login_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.account import AccountState
from plivo_otp_app.state.login import LoginState, SignupState
from plivo_otp_app.state.verify import VerifyState

PASSWORD = "correct horse battery staple quietly"
NUMBER = "+14155552671"
NEW_NUMBER = "+14155550123"
BROWSER_A = "otp_browser=browser-a-cookie-value"
#: Another browser with the stolen token: its own pre-login cookie, no cookie at all, or other cookies.
OTHER_BROWSERS = ["otp_browser=browser-b-cookie-value", "", "theme=dark; otp_device=x"]


def _drain(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in handler]

    return asyncio.run(collect())


@pytest.fixture
def code(sandbox) -> Any:
    """The last code the sandbox delivered to a number."""
    return sandbox.code_for


@pytest.fixture
def tab(accounts, monkeypatch) -> State:
    """One tab's state tree, on the test's services."""
    use_services(monkeypatch, accounts, login_module, verify_module, account_module, auth_module)
    return State(_reflex_internal_init=True)


def _connect(tab: State, cookie: str) -> None:
    """A socket with the tab's client token and these cookies: Reflex's router for its events."""
    headers = {"asgi-scope-client": "198.51.100.7", "cookie": cookie} if cookie else {}
    tab.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-a", "headers": headers})


def _sub(tab: State, cls: type) -> Any:
    return tab.get_substate(cls.get_full_name().split("."))


def _user(accounts, code, two_factor: bool) -> int:
    result = accounts.signups.signup("alice", "alice@example.org", PASSWORD, NUMBER, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    accounts.signups.finish_signup(result.user_id, result.started.verification_id, code(NUMBER), "192.0.2.1")
    if two_factor:
        started = accounts.account_changes.start_enable_2fa(result.user_id, "sms", "192.0.2.1")
        accounts.account_changes.finish_enable_2fa(
            result.user_id, started.verification_id, code(NUMBER), "192.0.2.1"
        )
    return result.user_id


def _generate_backup_codes(tab: State, page: AccountState, code) -> None:
    """The password, then the code sent to the phone: ten new codes on the page."""
    _drain(page.generate_backup_codes({"password": PASSWORD}))
    _drain(_sub(tab, VerifyState).verify_code({"otp": code(NUMBER)}))


def _rows(accounts, model: type) -> list[Any]:
    with accounts.users.db() as db:
        return list(db.exec(select(model)).all())


def _at_login_code_step(tab: State, accounts, code) -> VerifyState:
    """Tab A (cookie A) past the password step of a 2FA account: the code is on its way."""
    _user(accounts, code, two_factor=True)
    _connect(tab, BROWSER_A)
    _drain(_sub(tab, LoginState).submit({"username": "alice", "password": PASSWORD}))
    verify = _sub(tab, VerifyState)
    assert verify.code_sent and verify.flow == "login" and verify.error == ""
    return verify


def test_the_login_code_step_finishes_in_the_browser_that_gave_the_password(tab, accounts, code):
    verify = _at_login_code_step(tab, accounts, code)
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert verify.verified and "/api/session/complete?ticket=" in verify.leaving_to
    assert len(_rows(accounts, LoginTicket)) == 1


@pytest.mark.parametrize("cookie", OTHER_BROWSERS)
def test_a_login_tab_token_with_the_right_code_from_another_browser_gets_no_ticket(
    tab, accounts, cookie, code
):
    verify = _at_login_code_step(tab, accounts, code)
    _connect(tab, cookie)  # the attacker's socket: tab A's token, not tab A's cookie
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert not verify.verified and verify.leaving_to == ""
    assert _rows(accounts, LoginTicket) == []
    assert not verify.code_sent and verify._pending_token == ""  # the flow is over, for everyone
    _connect(tab, BROWSER_A)  # and tab A itself must give its password again
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert not verify.verified and _rows(accounts, LoginTicket) == []


@pytest.mark.parametrize("cookie", OTHER_BROWSERS)
def test_a_login_tab_token_from_another_browser_can_neither_resend_nor_use_a_backup_code(
    tab, accounts, sandbox, clock, cookie, code
):
    verify = _at_login_code_step(tab, accounts, code)
    sent = len(sandbox.store.messages(NUMBER))
    clock.advance(31)
    _connect(tab, cookie)
    _drain(verify.resend_code())
    assert len(sandbox.store.messages(NUMBER)) == sent and not verify.code_sent
    verify = _at_login_code_step_again(tab, accounts)
    _connect(tab, cookie)
    verify.toggle_backup_mode()
    _drain(verify.verify_backup_code({"backup_code": "AAAA-AAAA-AAAA-AAAA"}))
    assert not verify.code_sent and verify.error == "" and "another browser" in verify.notice


def _at_login_code_step_again(tab: State, accounts) -> VerifyState:
    _connect(tab, BROWSER_A)
    _drain(_sub(tab, LoginState).submit({"username": "alice", "password": PASSWORD}))
    verify = _sub(tab, VerifyState)
    assert verify.code_sent and verify.flow == "login", verify.error
    return verify


def test_a_password_step_without_the_browser_cookie_is_refused_before_any_code(tab, accounts, sandbox, code):
    _user(accounts, code, two_factor=True)
    sent = len(sandbox.store.messages(NUMBER))
    _connect(tab, "")
    login = _sub(tab, LoginState)
    _drain(login.submit({"username": "alice", "password": PASSWORD}))
    assert login.error == BrowserUnknown("no cookie").user_message()
    assert not _sub(tab, VerifyState).code_sent and len(sandbox.store.messages(NUMBER)) == sent


@pytest.mark.parametrize("cookie", OTHER_BROWSERS)
def test_a_signup_tab_token_from_another_browser_cannot_verify_or_replace_the_phone(
    tab, accounts, sandbox, cookie, code
):
    _connect(tab, BROWSER_A)
    form = {"username": "alice", "email": "", "password": PASSWORD, "phone": NUMBER}
    _drain(_sub(tab, SignupState).submit({**form, "country": "US", "channel": "sms"}))
    verify = _sub(tab, VerifyState)
    assert verify.code_sent and verify.flow == "signup", verify.error
    _connect(tab, cookie)
    verify.change_number()
    _drain(verify.send_code({"phone": NEW_NUMBER, "country": "US", "channel": "sms"}))
    assert sandbox.store.messages(NEW_NUMBER) == []
    [user] = _rows(accounts, User)
    assert user.phone_number == NUMBER
    _connect(tab, BROWSER_A)
    _drain(_sub(tab, SignupState).submit({**form, "username": "bob", "country": "US", "channel": "sms"}))
    assert verify.code_sent and verify.flow == "signup", verify.error
    _connect(tab, cookie)
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert not verify.verified and verify.leaving_to == "" and _rows(accounts, LoginTicket) == []
    assert not any(u.is_phone_verified for u in _rows(accounts, User))


def _signed_in(tab: State, accounts, user_id: int) -> str:
    """Tab A, signed in: a live session cookie; returns its token."""
    token = accounts.sessions.create_session(user_id, "192.0.2.1", "browser A")
    _connect(tab, f"{BROWSER_A}; otp_session={token}")
    return token


def test_backup_codes_are_shown_to_the_session_that_generated_them_once(tab, accounts, code):
    user_id = _user(accounts, code, two_factor=False)
    token = _signed_in(tab, accounts, user_id)
    page = _sub(tab, AccountState)
    _drain(page.load())
    _generate_backup_codes(tab, page, code)
    assert page.error == "" and len(page.new_backup_codes) == 10
    codes = list(page.new_backup_codes)
    for cookie in OTHER_BROWSERS:  # a copied tab token: the hydrate delta carries none of them
        _connect(tab, cookie)
        assert page.new_backup_codes == []
        assert not any(code in str(tab.dict()) for code in codes)
    _connect(tab, f"{BROWSER_A}; otp_session={token}")
    assert page.new_backup_codes == codes
    _drain(page.load())  # a reload (or a later tab with this token): shown once means gone
    assert page.new_backup_codes == [] and page._backup_codes == []
    assert not any(code in str(tab.dict()) for code in codes)


def test_backup_codes_are_gone_after_the_next_account_action_or_a_while(tab, accounts, monkeypatch, code):
    user_id = _user(accounts, code, two_factor=False)
    _signed_in(tab, accounts, user_id)
    page = _sub(tab, AccountState)
    _generate_backup_codes(tab, page, code)
    assert len(page.new_backup_codes) == 10
    page.open_panel("change-phone")
    assert page.new_backup_codes == [] and page._backup_codes == []
    _generate_backup_codes(tab, page, code)
    assert len(page.new_backup_codes) == 10
    later = account_module.time.time() + account_module.BACKUP_CODES_SHOWN_SECONDS + 1
    monkeypatch.setattr(account_module.time, "time", lambda: later)
    assert page.new_backup_codes == []


def _start_phone_change(tab: State, accounts, code) -> tuple[int, str, VerifyState]:
    user_id = _user(accounts, code, two_factor=False)
    token = _signed_in(tab, accounts, user_id)
    page = _sub(tab, AccountState)
    form = {"password": PASSWORD, "phone": NEW_NUMBER, "country": "US", "channel": "sms"}
    _drain(page.change_phone(form))
    verify = _sub(tab, VerifyState)
    assert page.error == "" and verify.code_sent and verify.flow == "change-phone", page.error
    return user_id, token, verify


def _phone(accounts, user_id: int) -> str | None:
    with accounts.users.db() as db:
        return db.get(User, user_id).phone_number


def test_a_phone_change_finishes_in_the_session_that_started_it(tab, accounts, code):
    user_id, _, verify = _start_phone_change(tab, accounts, code)
    _drain(verify.verify_code({"otp": code(NEW_NUMBER)}))
    assert verify.verified and _phone(accounts, user_id) == NEW_NUMBER


def test_a_phone_change_is_refused_once_its_session_is_revoked(tab, accounts, code):
    user_id, token, verify = _start_phone_change(tab, accounts, code)
    accounts.sessions.end(token)
    _drain(verify.verify_code({"otp": code(NEW_NUMBER)}))
    assert not verify.verified and not verify.code_sent
    assert _phone(accounts, user_id) == NUMBER


@pytest.mark.parametrize("cookie", ["", BROWSER_A, "otp_browser=browser-b-cookie-value"])
def test_a_phone_change_is_refused_in_another_live_session_of_the_same_user(tab, accounts, cookie, code):
    user_id, _, verify = _start_phone_change(tab, accounts, code)
    other = accounts.sessions.create_session(user_id, "203.0.113.9", "browser B")
    _connect(tab, f"{cookie}; otp_session={other}" if cookie else f"otp_session={other}")
    _drain(verify.verify_code({"otp": code(NEW_NUMBER)}))
    assert not verify.verified and not verify.code_sent
    assert "another browser or session" in verify.notice
    assert _phone(accounts, user_id) == NUMBER


def _unverified_signed_in(tab: State, accounts) -> tuple[int, str]:
    result = accounts.signups.signup("alice", "alice@example.org", PASSWORD, NUMBER, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    return result.user_id, _signed_in(tab, accounts, result.user_id)


def _verified(accounts, user_id: int) -> bool:
    with accounts.users.db() as db:
        return db.get(User, user_id).is_phone_verified


def test_verify_this_number_finishes_in_its_session_without_minting_another(tab, accounts, clock, code):
    user_id, _ = _unverified_signed_in(tab, accounts)
    clock.advance(31)
    _drain(_sub(tab, AccountState).verify_phone())
    verify = _sub(tab, VerifyState)
    assert verify.code_sent and verify.flow == "verify-phone", _sub(tab, AccountState).error
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert verify.verified and _verified(accounts, user_id)
    assert verify.leaving_to == "" and _rows(accounts, LoginTicket) == []
    assert len(_rows(accounts, AuthSession)) == 1


def test_verify_this_number_after_sign_out_everywhere_is_refused_and_mints_no_session(
    tab, accounts, clock, code
):
    user_id, _ = _unverified_signed_in(tab, accounts)
    clock.advance(31)
    _drain(_sub(tab, AccountState).verify_phone())
    verify = _sub(tab, VerifyState)
    assert verify.code_sent, _sub(tab, AccountState).error
    assert accounts.sessions.end_all(user_id) == 1  # "Sign out everywhere" from another session
    _drain(verify.verify_code({"otp": code(NUMBER)}))
    assert not verify.verified and not _verified(accounts, user_id)
    assert verify.leaving_to == "" and _rows(accounts, LoginTicket) == []
    assert [s.revoked_at is not None for s in _rows(accounts, AuthSession)] == [True]
