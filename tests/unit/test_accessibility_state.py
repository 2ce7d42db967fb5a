"""What the states tell assistive technology: which field an error is about, and a countdown's
end said once. Real service, SDK and sandbox; the countdown's clock is passed in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData

from plivo_otp_app.errors import CodeRejected, InvalidCredentials, InvalidInput, InvalidPhone, OtpError
from plivo_otp_app.messages import RESEND_READY
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.presenter import present
from plivo_otp_app.state.verify import VerifyState

NUMBER = "+14155552671"


def _drain(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in handler]

    return asyncio.run(collect())


@pytest.fixture
def state(service, monkeypatch) -> VerifyState:
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    state = VerifyState()
    state.router = RouterData.from_router_data(
        {"ip": "198.51.100.7", "token": "tab-1", "headers": {"asgi-scope-client": "198.51.100.7"}}
    )
    return state


def _send(state: VerifyState, phone: str = "(415) 555-2671") -> None:
    _drain(state.send_code({"phone": phone, "country": "US", "channel": "sms"}))


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (InvalidPhone("x"), "phone"),
        (CodeRejected(3), "code"),
        (InvalidCredentials(), "password"),
        (InvalidInput("x", field="email"), "email"),
        (InvalidInput("x"), ""),
        (OtpError(), ""),
    ],
)
def test_a_failure_names_the_field_it_is_about(error: OtpError, field: str):
    assert present(error).field == field


def test_an_invalid_number_marks_the_phone_field_and_a_wrong_code_the_code_field(state, sandbox):
    _send(state, phone="12345")
    assert state.error and state.error_field == "phone"
    _send(state)
    wrong = "000000" if sandbox.code_for(NUMBER) != "000000" else "111111"
    _drain(state.verify_code({"otp": wrong}))
    assert state.error_field == "code" and not state.error_counted


def test_provider_down_is_about_no_field(state):
    _send(state, phone="+1 202 555 0103")
    assert state.error and state.error_field == ""


def test_the_end_of_the_resend_countdown_is_announced_once(state, sandbox):
    _send(state)
    assert state.resend_in == 30 and state.announcement == ""
    start = time.time()
    for second in range(1, 30):
        assert state._count_down(start + second)
        assert state.announcement == ""  # nothing said while it counts
    assert not state._count_down(start + 31)
    assert state.announcement == RESEND_READY
    state._count_down(start + 32)  # a stray tick says nothing new
    assert state.announcement == RESEND_READY
    _drain(state.resend_code())
    assert state.announcement == ""  # the next countdown starts silent


def test_a_counted_wait_is_said_at_its_start_and_its_end_only(state, sandbox):
    _send(state)
    code = sandbox.code_for(NUMBER)
    wrongs = [w for w in ("000000", "111111", "222222", "333333", "444444", "555555") if w != code][:5]
    for wrong in wrongs:  # a code refused once is not sent again
        _drain(state.verify_code({"otp": wrong}))
    assert state.code_dead and state.error_counted
    first = state.announcement
    assert first == state.error and "Too many wrong codes" in first
    start = time.time()
    state._count_down(start + 10)
    assert state.error != first and state.announcement == first  # the error counts, silently
    state._count_down(start + 400)
    assert state.announcement == state.error != first  # the wait's "now" sentence, once
