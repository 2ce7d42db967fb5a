"""The page's State handlers without a browser, on the real service, SDK and sandbox.

Every public handler is callable from the browser with any arguments, so the
hostile-argument tests matter as much as the happy path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import RouterData

from plivo_otp_app.state import verify as verify_module
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


def _send(state: VerifyState, phone: str = "(415) 555-2671", channel: str = "sms") -> None:
    _drain(state.send_code({"phone": phone, "country": "US", "channel": channel}))


def test_send_then_verify(state, sandbox):
    _send(state)
    assert state.code_sent and not state.loading and state.error == ""
    assert state.masked_phone == "+1******2671"
    assert "texting" in state.message
    assert state.resend_in == 30
    _drain(state.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert state.verified and state.error == ""


def test_the_browser_never_receives_secrets(state, sandbox):
    _send(state)
    code = sandbox.code_for(NUMBER)
    visible = str(state.dict())
    provider_session = sandbox.store.messages(NUMBER) and sandbox.store.sessions()[0].session_uuid
    assert state._verification_id and state._verification_id not in visible
    assert provider_session not in visible
    assert code not in visible
    assert NUMBER not in visible


def test_pasted_code_with_spaces_is_accepted(state, sandbox):
    _send(state)
    code = sandbox.code_for(NUMBER)
    _drain(state.verify_code({"otp": f" {code[:3]} {code[3:]} "}))
    assert state.verified


def test_wrong_code_says_attempts_left(state, sandbox):
    _send(state)
    wrong = "000000" if sandbox.code_for(NUMBER) != "000000" else "111111"
    _drain(state.verify_code({"otp": wrong}))
    assert not state.verified
    assert state.error == "That code is not correct. 4 attempts left."


def test_invalid_number_is_explained(state):
    _send(state, phone="12345")
    assert not state.code_sent
    assert "phone number" in state.error


def test_provider_down_is_explained(state):
    _send(state, phone="+1 202 555 0103")
    assert not state.code_sent and not state.loading
    assert state.error == "We could not reach the SMS service. Please try again in a minute."


def test_resend_before_cooldown_is_refused_with_countdown(state, sandbox):
    _send(state)
    _drain(state.resend_code())
    assert "wait" in state.error
    assert 0 < state.resend_in <= 30
    assert len(sandbox.store.messages(NUMBER)) == 1


def test_resend_after_cooldown_by_voice(state, sandbox, clock):
    _send(state)
    clock.advance(31)
    _drain(state.call_me())
    assert state.error == ""
    assert state.channel == "voice"
    assert state.resend_in == 60
    voice, sms = sandbox.store.messages(NUMBER)
    assert (voice.channel, sms.channel) == ("voice", "sms")
    assert voice.code == sms.code


def test_change_number_keeps_what_was_typed(state):
    _send(state)
    state.change_number()
    assert not state.code_sent and state.phone == "(415) 555-2671" and state._verification_id == ""


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "phone",
        42,
        [],
        {"phone": 123},
        {"phone": ["+14155552671"], "country": {"x": 1}},
        {"channel": "fax"},
    ],
)
def test_hostile_send_arguments_never_crash_or_send(state, sandbox, payload):
    _drain(state.send_code(payload))
    assert not state.code_sent and not state.loading
    assert sandbox.store.messages() == []


@pytest.mark.parametrize(
    "payload", [None, "123456", {"otp": 123456}, {"otp": ["1"]}, {"otp": "１２３４５６"}]
)
def test_hostile_verify_arguments_never_verify(state, sandbox, payload):
    _send(state)
    _drain(state.verify_code(payload))
    assert not state.verified and not state.loading


def test_verify_without_a_code_sent_does_nothing(state, sandbox):
    _drain(state.verify_code({"otp": "123456"}))
    assert not state.verified and state.error == "" and sandbox.store.sessions() == []


def test_client_cannot_choose_the_verification(state, sandbox):
    """A client-set public var cannot point the check at another verification."""
    _send(state)
    other = VerifyState()
    other.router = RouterData.from_router_data(
        {"ip": "198.51.100.8", "token": "tab-2", "headers": {"asgi-scope-client": "198.51.100.8"}}
    )
    other.code_sent = True  # as if a hostile client flipped the visible flag
    _drain(other.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert not other.verified
    _drain(state.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert state.verified


def _tab(peer: str, forwarded_for: str, reflex_ip: str) -> VerifyState:
    """A tab whose socket came from `peer` with `X-Forwarded-For`; `reflex_ip` is what Reflex made of it."""
    state = VerifyState()
    headers = {"asgi-scope-client": peer, "x-forwarded-for": forwarded_for}
    state.router = RouterData.from_router_data({"ip": reflex_ip, "token": forwarded_for, "headers": headers})
    return state


def _sends_from(peer: str, make_service, monkeypatch) -> list[str]:
    """Three sends to three numbers over one proxy hop, each with a fresh forged X-Forwarded-For."""
    from reflex.config import get_config

    service = make_service(RATE_LIMIT_SEND_PER_IP="2/hour")
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    monkeypatch.setattr(get_config(), "trusted_proxy_hops", 1)
    errors = []
    for index, phone in enumerate(("(415) 555-2671", "(415) 555-2672", "(415) 555-2673")):
        forged = f"203.0.113.{index + 1}"
        state = _tab(peer, forged, reflex_ip=forged)  # Reflex believes any peer's X-Forwarded-For
        _send(state, phone)
        errors.append(state.error)
    return errors


def test_forwarded_for_from_a_peer_that_is_no_proxy_does_not_escape_the_address_limit(
    make_service, monkeypatch
):
    errors = _sends_from("198.51.100.7", make_service, monkeypatch)
    assert errors[:2] == ["", ""]
    assert "wait" in errors[2]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_service, monkeypatch):
    assert _sends_from("127.0.0.1", make_service, monkeypatch) == ["", "", ""]


GENERIC_ERRORS = ("Something went wrong. Please try again.",)
HOSTILE_TEXT = ["\ud800", "4\udfff15", "\x00", "+1415\x005552671", "9" * 100_000]


@pytest.mark.parametrize("field", ["phone", "country", "channel"])
@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_send_with_hostile_text_is_explained_and_sends_nothing(state, sandbox, field, text):
    form = {"phone": "(415) 555-2671", "country": "US", "channel": "sms"}
    _drain(state.send_code({**form, field: text}))
    assert not state.code_sent and not state.loading
    assert state.error and state.error not in GENERIC_ERRORS, state.error
    assert sandbox.store.messages() == []


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_verify_with_hostile_text_is_explained_and_never_verifies(state, sandbox, text):
    _send(state)
    _drain(state.verify_code({"otp": text}))
    assert not state.verified and not state.loading
    assert state.error and state.error not in GENERIC_ERRORS, state.error
