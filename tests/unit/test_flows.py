"""The registry of flow purposes, and a purpose added from outside driven through `VerifyState`.

`VerifyState` only dispatches: what each purpose must be bound to, whether a backup code may
stand in for the SMS code, and how it finishes live in the purpose's flow. A new purpose is
one module and its registration; here the module is this test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app import flows
from plivo_otp_app.enums import Purpose
from plivo_otp_app.flows import Binding, Finished, Flow, Step
from plivo_otp_app.messages import interrupted_message
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.verify import VerifyState

NUMBER = "+14155552671"
BROWSER_A = "otp_browser=browser-a-cookie-value"
NEWSLETTER = "test-newsletter"


def _drain(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in handler]

    return asyncio.run(collect())


def test_every_purpose_has_its_flow_with_the_binding_and_factors_it_had():
    """The security-relevant table the if-chains used to spell: each purpose's binding and
    whether a backup code is taken."""
    table = {
        Purpose.VERIFY: (Binding.NONE, False, "verify"),
        Purpose.SIGNUP: (Binding.BROWSER, False, "signup"),
        Purpose.LOGIN: (Binding.BROWSER, True, "login"),
        Purpose.ENABLE_2FA: (Binding.SESSION, False, "account"),
        Purpose.DISABLE_2FA: (Binding.SESSION, True, "account"),
        Purpose.CHANGE_PHONE: (Binding.SESSION, False, "account"),
        Purpose.CONFIRM_PHONE: (Binding.SESSION, True, "account"),
        Purpose.BACKUP_CODES: (Binding.SESSION, True, "account"),
        Purpose.VERIFY_PHONE: (Binding.SESSION, False, "account"),
        # The backup code of a 2FA account comes with the new password, not instead of the code.
        Purpose.RESET_PASSWORD: (Binding.BROWSER, False, "reset-password"),
    }
    assert set(table) == set(Purpose)
    for purpose, expected in table.items():
        flow = flows.get(purpose)
        assert flow.purpose == purpose
        assert (flow.binding, flow.takes_backup_codes, flow.page) == expected, purpose
    # Only the public verification and the sign-up have a phone form on their code step.
    assert {p for p in Purpose if flows.get(p).send is not None} == {Purpose.VERIFY, Purpose.SIGNUP}


def test_an_unknown_purpose_has_no_flow():
    with pytest.raises(LookupError):
        flows.get("no-such-purpose")


def test_a_purpose_cannot_be_registered_twice():
    login = flows.get(Purpose.LOGIN)
    assert flows.register(login) is login  # the same flow again: nothing changes
    with pytest.raises(ValueError, match="already registered"):
        flows.register(Flow(Purpose.LOGIN, "login", Binding.NONE, login.finish, login.resend))
    assert flows.get(Purpose.LOGIN) is login


# A test-only purpose: a newsletter that confirms the reader's number. Its whole module is these lines.


async def _subscribe(step: Step, code: object) -> Finished:
    service = step.verifications()
    checked = await asyncio.to_thread(service.check, step.verification_id, code, step.ip)
    return Finished(f"Subscribed {checked.masked}.", follow_up=VerifyState.tick)


NEWSLETTER_FLOW = Flow(
    NEWSLETTER, page="newsletter", binding=Binding.BROWSER, finish=_subscribe, resend=flows.renew("verify")
)


@pytest.fixture
def newsletter() -> Iterator[Flow]:
    flows.register(NEWSLETTER_FLOW)
    yield NEWSLETTER_FLOW
    flows.unregister(NEWSLETTER)


@pytest.fixture
def tab(service, monkeypatch) -> State:
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    return State(_reflex_internal_init=True)


def _connect(tab: State, cookie: str) -> VerifyState:
    headers = {"asgi-scope-client": "198.51.100.7", **({"cookie": cookie} if cookie else {})}
    tab.router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-a", "headers": headers})
    return tab.get_substate(VerifyState.get_full_name().split("."))


def _start_newsletter(tab: State, service) -> VerifyState:
    """What the newsletter's own state would do: send a code and hand the step to the OTP flow."""
    verify = _connect(tab, BROWSER_A)
    started = service.start(NUMBER, "US", "sms", "198.51.100.7")
    verify._take_over(started, NEWSLETTER, bound_to=verify._browser_binding())
    assert verify.code_sent and verify.flow == NEWSLETTER and verify.flow_in_progress == "newsletter"
    assert not verify.backup_allowed
    return verify


def test_a_new_purpose_finishes_through_verify_state_with_its_own_words_and_follow_up(
    newsletter, tab, service, sandbox
):
    verify = _start_newsletter(tab, service)
    updates = _drain(verify.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert verify.verified and verify.message == "Subscribed +1******2671."
    assert verify.flow_in_progress == "" and verify._verification_id == ""
    assert VerifyState.tick in updates  # the flow's follow-up event, yielded by VerifyState


def test_a_new_purpose_gets_its_binding_checked_by_verify_state(newsletter, tab, service, sandbox):
    verify = _start_newsletter(tab, service)
    verify = _connect(tab, "otp_browser=browser-b-cookie-value")  # the tab token in another browser
    _drain(verify.verify_code({"otp": sandbox.code_for(NUMBER)}))
    assert not verify.verified and not verify.code_sent and "another browser" in verify.notice


def test_a_new_purpose_resends_its_own_way_and_takes_no_backup_code(newsletter, tab, service, sandbox, clock):
    verify = _start_newsletter(tab, service)
    verify.toggle_backup_mode()
    _drain(verify.verify_backup_code({"backup_code": "AAAA-AAAA-AAAA-AAAA"}))
    assert not verify.backup_mode and verify.error == "" and verify.code_sent
    clock.advance(31)
    _drain(verify.call_me())
    assert verify.error == "" and verify.channel == "voice"
    assert [m.channel for m in sandbox.store.messages(NUMBER)] == ["voice", "sms"]


def test_a_new_purpose_interrupted_by_a_restart_is_explained_on_its_page(newsletter, tab):
    verify = _connect(tab, BROWSER_A)
    verify.flow_in_progress = "newsletter"  # the browser's record; the restarted server has no flow
    verify.reset_flow()
    assert verify.notice == interrupted_message("newsletter")
