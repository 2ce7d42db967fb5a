"""The page's State handlers without a browser, on the real service, SDK and sandbox.

Every public handler is callable from the browser with any arguments, so the
hostile-argument tests matter as much as the happy path.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import altcha
import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from wiring import use_services

from plivo_otp_app import services
from plivo_otp_app.audit import Audit
from plivo_otp_app.config import get_settings
from plivo_otp_app.messages import OUTAGE, interrupted_message
from plivo_otp_app.state import LoginState, SandboxState, SignupState
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import sandbox as sandbox_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.verify import VerifyState

NUMBER = "+14155552671"
PASSWORD = "correct horse battery staple quietly"


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


@pytest.mark.parametrize("separator", [" ", "-", " - ", "\t"])
def test_a_code_typed_as_the_sms_shows_it_is_accepted(state, sandbox, separator):
    _send(state)
    code = sandbox.code_for(NUMBER)
    _drain(state.verify_code({"otp": f" {code[:3]}{separator}{code[3:]} "}))
    assert state.verified and state.error == ""


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
    assert re.fullmatch(r"Please wait [0-9]+ s before requesting another code\.", state.error)
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
    assert errors[2].startswith("Too many codes sent")


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


def _wrong(code: str, attempt: int = 0) -> str:
    """A wrong code, a different one for each `attempt`."""
    wrong = f"{attempt:06d}"
    return wrong if wrong != code else f"{attempt + 100:06d}"


def test_an_expired_code_offers_a_new_code_at_once(state, sandbox):
    _send(state)
    old = sandbox.code_for(NUMBER)
    assert sandbox.store.expire(NUMBER.lstrip("+")) == 1  # the SDK sends the number without its +
    _drain(state.verify_code({"otp": old}))
    assert state.error == "This code has expired. Send a new code to continue."
    assert state.code_dead and state.resend_in == 0  # no cooldown left to wait for
    _drain(state.resend_code())
    assert state.error == "" and not state.code_dead and "texting" in state.message
    assert len(sandbox.store.sessions()) == 2  # a fresh verification, not the dead one again
    _drain(state.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert state.verified


def test_too_many_wrong_codes_stop_verify_and_say_when_a_new_code_can_come(state, sandbox, clock):
    _send(state)
    code = sandbox.code_for(NUMBER)
    for attempt in range(5):  # five different wrong codes: the same one twice is not sent again
        _drain(state.verify_code({"otp": _wrong(code, attempt)}))
    assert state.code_dead
    assert re.fullmatch(
        r"Too many wrong codes\. You can request a new code in (4 min [0-9]+ s|5 min)\.", state.error
    )
    assert 290 <= state.resend_in <= 300  # until the code's 5 minutes are over
    refused = state.error
    _drain(state.verify_code({"otp": code}))  # Verify is off: a right code is not even tried
    assert not state.verified and state.error == refused
    clock.advance(301)  # the burnt code's provider session has expired
    _drain(state.resend_code())
    assert state.error == "" and not state.code_dead
    _drain(state.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert state.verified


def test_send_limits_say_too_many_codes_sent_with_the_exact_wait(make_service, monkeypatch):
    service = make_service(RATE_LIMIT_SEND_PER_NUMBER="1/hour")
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    state = VerifyState()
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1"})
    _send(state)
    state.change_number()
    _send(state)
    assert not state.code_sent and not state.loading
    assert re.fullmatch(
        r"Too many codes sent\. You can request a new code in (59 min [0-9]+ s|1 h)\.", state.error
    )


def test_a_database_outage_has_the_outage_sentence(make_service, monkeypatch, tmp_path):
    service = make_service()
    service._db_url = f"sqlite:///{tmp_path / 'gone' / 'no.db'}"  # a directory that does not exist
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    state = VerifyState()
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1"})
    _send(state)
    assert not state.loading and state.error == OUTAGE


@pytest.fixture
def unbuildable_services(monkeypatch) -> Iterator[None]:
    """The real service factories, with a rate-limit store URL no store can be built from."""
    factories = (get_settings, services.get_verification_service, services.get_services)
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", "no-such-store://localhost")
    for factory in factories:
        factory.cache_clear()
    yield
    monkeypatch.delenv("RATE_LIMIT_STORAGE_URL")
    for factory in factories:
        factory.cache_clear()


def _root_tab() -> State:
    root = State()
    headers = {"cookie": "otp_browser=a-browser"}
    root.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1", "headers": headers})
    return root


def test_a_service_that_cannot_be_built_leaves_no_button_busy(unbuildable_services):
    root = _root_tab()
    verify = root.get_substate(VerifyState.get_full_name().split("."))
    _drain(verify.send_code({"phone": "(415) 555-2671", "country": "US", "channel": "sms"}))
    assert not verify.loading and verify.error == OUTAGE

    login = root.get_substate(LoginState.get_full_name().split("."))
    _drain(login.submit({"username": "alice", "password": PASSWORD}))
    assert not login.loading and login.error == OUTAGE

    signup = root.get_substate(SignupState.get_full_name().split("."))
    form = {"username": "alice", "email": "", "password": PASSWORD, "phone": "(415) 555-2671"}
    _drain(signup.submit({**form, "country": "US", "channel": "sms"}))
    assert not signup.loading and signup.error == OUTAGE


def test_a_flow_the_server_forgot_is_explained_on_load(state):
    state.flow_in_progress = "login"  # the browser's per-tab record; the (restarted) server has none
    state.reset_flow()
    assert state.notice == interrupted_message("login")
    assert (
        state.notice
        == "Your session was interrupted (the server restarted). Please enter your password again."
    )
    assert state.flow_in_progress == ""


def test_a_flow_from_before_the_server_started_is_explained_on_load(state, sandbox):
    _send(state)
    state._flow_since = verify_module._PROCESS_STARTED - 60  # as a disk or Redis state manager restores it
    state.reset_flow()
    assert state.notice == interrupted_message("verify") and not state.code_sent


def test_a_reload_during_a_flow_says_nothing_about_a_restart(state, sandbox):
    _send(state)
    assert state.flow_in_progress == "verify"
    state.reset_flow()  # the server still had the flow: a reload, not a restart
    assert state.notice == "" and not state.code_sent and state.flow_in_progress == ""


def test_a_login_that_timed_out_goes_back_to_the_password_step(state, accounts, monkeypatch):
    use_services(monkeypatch, accounts, verify_module)
    headers = {"asgi-scope-client": "198.51.100.7", "cookie": "otp_browser=a-browser"}
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1", "headers": headers})
    pending = "a-pending-login-the-server-no-longer-has"
    state._take_over(None, "login", pending_token=pending, bound_to=state._browser_binding())
    _drain(state.verify_code({"otp": "123456"}))
    assert not state.code_sent and state.flow == "verify" and not state.loading  # the password form again
    assert state.notice == "Your login timed out. Please enter your password again."


def test_the_page_reads_country_code_length_and_sandbox_from_the_settings_when_it_loads(
    make_settings, monkeypatch
):
    """Not at import: a host app's settings, given after the library is imported, are the ones shown."""
    settings = make_settings(DEFAULT_COUNTRY="GB", OTP_CODE_LENGTH="8")
    for module in (verify_module, auth_module, sandbox_module):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    root = _root_tab()
    verify = root.get_substate(VerifyState.get_full_name().split("."))
    outbox = root.get_substate(SandboxState.get_full_name().split("."))
    verify.arrive()
    verify.reset_flow()
    outbox.refresh()
    assert (verify.country, verify.code_length) == ("GB", 8)
    assert verify.sandbox is settings.provider.is_sandbox and outbox.enabled is settings.provider.is_sandbox


@pytest.fixture
def challenged(make_service, monkeypatch) -> VerifyState:
    """A page whose sends to +1415 always need the challenge."""
    service = make_service(PUMPING_CHALLENGE_PREFIXES="+1415")
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    state = VerifyState()
    state.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1"})
    return state


def _solved(state: VerifyState) -> str:
    """What the page's widget answers to the challenge it was given."""
    challenge = altcha.Challenge.from_dict(json.loads(state.challenge))
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def test_a_held_send_gets_a_challenge_and_goes_on_once_it_is_solved(challenged, sandbox):
    _send(challenged)
    assert not challenged.code_sent and challenged.challenge and challenged.error == ""
    assert sandbox.store.messages() == []
    _drain(challenged.challenge_solved(_solved(challenged)))
    assert challenged.code_sent and challenged.challenge == "" and challenged.error == ""
    assert len(sandbox.store.messages(NUMBER)) == 1


@pytest.mark.parametrize("answer", [None, 42, "", "x" * 5000, ["a"], {"payload": "a"}])
def test_a_hostile_answer_is_ignored_before_any_work(challenged, sandbox, answer):
    _send(challenged)
    waiting = challenged.challenge
    _drain(challenged.challenge_solved(answer))
    assert challenged.challenge == waiting and not challenged.code_sent
    assert sandbox.store.messages() == []


def test_an_answer_with_no_challenge_waiting_does_nothing(challenged, sandbox):
    _drain(challenged.challenge_solved("bm90aGluZw=="))
    assert not challenged.code_sent and not challenged.loading and sandbox.store.sessions() == []


def test_a_wrong_answer_gets_a_new_challenge_and_the_page_gives_up_after_three(challenged, sandbox):
    _send(challenged)
    for _ in range(2):
        first = challenged.challenge
        _drain(challenged.challenge_solved("bm90IGFuIGFuc3dlcg=="))
        assert challenged.challenge and challenged.challenge != first
    _drain(challenged.challenge_solved("bm90IGFuIGFuc3dlcg=="))
    assert challenged.challenge == "" and not challenged.loading
    assert challenged.error == "Please complete the check, then ask for the code again."
    assert sandbox.store.messages() == []


UNDELIVERED = "+12025550105"  # the sandbox's magic number: its texts are never delivered


@pytest.fixture
def deliveries(service, monkeypatch, db_url, clock) -> services.DeliveryService:
    """The delivery callbacks' service on the test's verification service, as the page reaches it."""
    settings = service.settings
    made = services.DeliveryService(
        settings, service, Audit(settings.audit, db_url, clock.now), db_url, clock.now
    )
    monkeypatch.setattr(verify_module, "get_delivery_service", lambda: made)
    return made


def _report_undelivered(deliveries: services.DeliveryService, sandbox, nonce: str = "n-1") -> None:
    """What a signed callback of the provider hands the service: the text was not delivered."""
    session = sandbox.store.sessions()[0]
    delivery = services.Delivery(
        session_uuid=session.session_uuid,
        attempt_uuid=str(session.attempts[0]["attempt_uuid"]),
        channel="sms",
        status="undelivered",
        error_code="80",
        recipient=UNDELIVERED,
        request_time=datetime.now(UTC),
    )
    assert deliveries.report(delivery, nonce) is services.Reported.RECORDED


def test_an_undelivered_text_offers_one_call_of_the_same_code(state, sandbox, deliveries):
    _send(state, "202 555 0105")
    asyncio.run(state.check_delivery())
    assert not state.call_offered  # nothing reported yet
    _report_undelivered(deliveries, sandbox)
    asyncio.run(state.check_delivery())
    assert state.call_offered
    assert state.message == "The text message could not be delivered. We can call you with the code instead."
    _drain(state.call_instead())
    assert not state.call_offered and state.delivery_settled
    assert state.channel == "voice" and "calling" in state.message
    [call] = sandbox.store.messages(UNDELIVERED)
    assert call.channel == "voice"
    _drain(state.call_instead())  # once
    assert len(sandbox.store.messages(UNDELIVERED)) == 1
    _drain(state.verify_code({"otp": call.code}))
    assert state.verified


def test_a_call_instead_asked_without_an_offer_calls_nobody(state, sandbox, deliveries):
    _send(state, "202 555 0105")
    _drain(state.call_instead())
    state.call_offered = True  # as if the browser claimed an offer there is not
    _drain(state.call_instead())
    assert sandbox.store.messages(UNDELIVERED) == []
    assert state.error == ""
