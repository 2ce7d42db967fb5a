"""The password reset's State handlers on the real services and sandbox: hostile text is
explained, the new-password step opens only through the code step, and only in the browser
that entered the code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from wiring import use_services

from plivo_otp_app import messages
from plivo_otp_app.errors import OtpError, ServiceUnavailable
from plivo_otp_app.state import recovery as recovery_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.recovery import RecoveryState
from plivo_otp_app.state.verify import VerifyState

PASSWORD = "correct horse battery staple quietly"
NEW_PASSWORD = "a brand new tangerine bicycle hums"
PHONE = "+14155554150"
GENERIC = (OtpError("x").user_message(), ServiceUnavailable("x").user_message())


def _drain(handler: AsyncIterator[Any]) -> None:
    async def collect() -> None:
        async for _ in handler:
            pass

    asyncio.run(collect())


@pytest.fixture
def root(accounts, monkeypatch) -> State:
    use_services(monkeypatch, accounts, recovery_module, verify_module)
    return State(_reflex_internal_init=True)


def _in_browser(root: State, browser: str = "a-browser") -> tuple[RecoveryState, VerifyState]:
    router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-1", "headers": {"cookie": f"otp_browser={browser}"}}
    )
    found = []
    for cls in (RecoveryState, VerifyState):
        state = root.get_substate(cls.get_full_name().split("."))
        state.router = router
        found.append(state)
    recovery, verify = found
    assert isinstance(recovery, RecoveryState) and isinstance(verify, VerifyState)
    return recovery, verify


def _user(accounts, sandbox) -> int:
    result = accounts.signups.signup("alice", None, PASSWORD, PHONE, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(PHONE), "x"
    )
    return result.user_id


@pytest.mark.parametrize("username", ["\ud800", "al\x00ice", "", "   ", ["alice"], None, 7])
def test_a_hostile_name_is_explained(root, username):
    recovery, verify = _in_browser(root)
    _drain(recovery.submit_name({"username": username}))
    assert recovery.error and recovery.error not in GENERIC
    assert not recovery.loading and not verify.code_sent


def test_the_code_opens_the_password_step_and_the_reset_ends_there(root, accounts, sandbox):
    _user(accounts, sandbox)
    recovery, verify = _in_browser(root)
    _drain(recovery.submit_name({"username": "alice"}))
    assert verify.code_sent and verify.flow == "reset-password"
    assert "verified phone" in verify.message and "4150" not in verify.message

    _drain(verify.verify_code({"otp": sandbox.code_for(PHONE)}))
    assert (recovery.step, recovery.backup_required, verify.code_sent) == ("password", False, False)
    _drain(recovery.submit_password({"new_password": NEW_PASSWORD}))
    assert (recovery.step, recovery.message) == ("done", messages.PASSWORD_RESET)
    assert accounts.logins.login("alice", NEW_PASSWORD, "x", None).user_id is not None


def test_no_password_step_without_the_code(root, accounts, sandbox):
    user_id = _user(accounts, sandbox)
    recovery, _ = _in_browser(root)
    _drain(recovery.submit_password({"new_password": NEW_PASSWORD}))  # still the name step
    recovery._open_password_step("00000000-0000-4000-8000-000000000000", False)  # no such reset
    _drain(recovery.submit_password({"new_password": NEW_PASSWORD}))
    assert recovery.error == messages.RESET_EXPIRED and recovery.step == "name"
    assert accounts.logins.login("alice", PASSWORD, "x", None).user_id == user_id


def test_the_password_step_from_another_browser_is_refused(root, accounts, sandbox):
    user_id = _user(accounts, sandbox)
    recovery, verify = _in_browser(root)
    _drain(recovery.submit_name({"username": "alice"}))
    _drain(verify.verify_code({"otp": sandbox.code_for(PHONE)}))
    assert recovery.step == "password"

    stolen, _ = _in_browser(root, "another-browser")  # the tab's state, another browser cookie
    _drain(stolen.submit_password({"new_password": NEW_PASSWORD}))
    assert stolen.error == messages.NOT_THIS_BROWSER and stolen.step == "name"
    assert accounts.logins.login("alice", PASSWORD, "x", None).user_id == user_id
