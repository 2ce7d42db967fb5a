"""The provider contract: what the services need from any `VerifyProvider`.

One set of tests, run against Plivo over the sandbox (the real SDK over HTTP) and
against the in-process fake. A new provider gets a `Subject` here (the provider,
a way to read what a number received, and numbers for which it refuses or is
down) and must pass every test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import Clock, Sandbox, sandbox_provider

from plivo_otp_app.errors import ProviderRejected, ProviderUnavailable
from plivo_otp_app.providers import FakeProvider, Outcome, VerifyProvider
from plivo_otp_app.sandbox.faults import FAULTS
from plivo_otp_app.sandbox.store import Message, SandboxStore

PHONE = "+14155552671"
OTHER_PHONE = "+14155552672"
EXPIRY_SECONDS = 300
ACCOUNT_APP = "00000000-0000-4000-8000-00000000acc7"
#: The sandbox's fault numbers, which the fake shares: refusals and outages. The hang is left
#: to test_plivo_wrapper.py, which waits for the sandbox to finish the hung request: here it
#: would deliver its code later, into another test's outbox.
REFUSED = [e164 for e164, fault in FAULTS.items() if fault.status in (400, 403)]
DOWN = [e164 for e164, fault in FAULTS.items() if fault.status and fault.status not in (400, 403)]


@dataclass
class Subject:
    """A provider under test and what the test needs around it."""

    provider: VerifyProvider
    #: What a number (E.164) received, newest first.
    inbox: Callable[[str], list[Message]]
    clock: Clock

    def code_for(self, e164: str) -> str:
        """The newest code the number received."""
        return next(m.code for m in self.inbox(e164) if m.code)

    def codes_for(self, e164: str) -> list[str]:
        """Every code the number received, newest first."""
        return [m.code for m in self.inbox(e164) if m.code]


def _plivo_over_sandbox(sandbox: Sandbox, clock: Clock) -> Subject:
    sandbox.store.expiry_seconds = EXPIRY_SECONDS
    return Subject(sandbox_provider(sandbox.base_url), sandbox.store.messages, clock)


def _fake(_sandbox: Sandbox, clock: Clock) -> Subject:
    fake = FakeProvider(SandboxStore(expiry_seconds=EXPIRY_SECONDS, clock=clock.time))
    return Subject(fake, fake.messages, clock)


@pytest.fixture(params=[_plivo_over_sandbox, _fake], ids=["plivo-over-sandbox", "fake"])
def subject(request: pytest.FixtureRequest, sandbox: Sandbox, clock: Clock) -> Subject:
    return request.param(sandbox, clock)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_send_returns_a_session_id_and_delivers_a_code(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    assert isinstance(session, str) and session
    assert subject.code_for(PHONE).isdigit()
    assert subject.provider.send(OTHER_PHONE, "sms") != session


def test_the_right_code_is_valid(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    assert subject.provider.validate(session, subject.code_for(PHONE)) is Outcome.VALID


def test_a_wrong_code_is_wrong_and_the_right_one_still_works(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    code = subject.code_for(PHONE)
    assert subject.provider.validate(session, wrong(code)) is Outcome.WRONG
    assert subject.provider.status(session) == "in-progress"
    assert subject.provider.validate(session, code) is Outcome.VALID


def test_a_code_works_once(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    code = subject.code_for(PHONE)
    assert subject.provider.validate(session, code) is Outcome.VALID
    assert subject.provider.validate(session, code) is Outcome.USED


def test_a_code_past_its_expiry_is_expired(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    code = subject.code_for(PHONE)
    subject.clock.advance(EXPIRY_SECONDS + 1)
    assert subject.provider.validate(session, code) is Outcome.EXPIRED


def test_an_unknown_session_is_expired(subject: Subject):
    assert subject.provider.validate("00000000-0000-4000-8000-000000000001", "123456") is Outcome.EXPIRED


def test_status_follows_the_session(subject: Subject):
    verified = subject.provider.send(PHONE, "sms")
    assert subject.provider.status(verified) == "in-progress"
    subject.provider.validate(verified, subject.code_for(PHONE))
    assert subject.provider.status(verified) == "verified"
    expired = subject.provider.send(OTHER_PHONE, "sms")
    subject.clock.advance(EXPIRY_SECONDS + 1)
    assert subject.provider.status(expired) == "expired"


def test_a_resend_re_delivers_the_same_code_in_the_same_session(subject: Subject):
    session = subject.provider.send(PHONE, "sms")
    assert subject.provider.send(PHONE, "voice") == session
    first, second = subject.codes_for(PHONE)[1], subject.codes_for(PHONE)[0]
    assert first == second
    assert subject.provider.validate(session, second) is Outcome.VALID


def test_after_expiry_a_send_starts_a_new_session(subject: Subject):
    old = subject.provider.send(PHONE, "sms")
    subject.clock.advance(EXPIRY_SECONDS + 1)
    new = subject.provider.send(PHONE, "sms")
    assert new != old
    assert subject.provider.validate(new, subject.code_for(PHONE)) is Outcome.VALID


def test_two_verify_applications_keep_their_sessions_apart(subject: Subject):
    public = subject.provider.send(PHONE, "sms")
    public_code = subject.code_for(PHONE)
    owner = subject.provider.send(PHONE, "sms", ACCOUNT_APP)
    owner_code = subject.code_for(PHONE)
    assert owner != public
    assert subject.provider.validate(public, public_code) is Outcome.VALID
    assert subject.provider.status(owner) == "in-progress"  # the other application's code is untouched
    assert subject.provider.validate(owner, owner_code) is Outcome.VALID
    assert subject.provider.send(PHONE, "sms", ACCOUNT_APP) != owner  # a verified session is not reused


def test_notify_delivers_the_text_and_no_code(subject: Subject):
    subject.provider.notify("+15550000000", PHONE, "Your password was changed.")
    newest = subject.inbox(PHONE)[0]
    assert newest.text == "Your password was changed."
    assert newest.code == ""


@pytest.mark.parametrize("e164", REFUSED)
def test_a_refusal_is_provider_rejected(subject: Subject, e164: str):
    with pytest.raises(ProviderRejected):
        subject.provider.send(e164, "sms")
    assert subject.inbox(e164) == []


@pytest.mark.parametrize("e164", DOWN)
def test_an_outage_is_provider_unavailable(subject: Subject, e164: str):
    with pytest.raises(ProviderUnavailable):
        subject.provider.send(e164, "sms")
