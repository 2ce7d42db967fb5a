"""The services on the fake provider (`OTP_PROVIDER=fake`): a whole verification and
its error paths, with no HTTP anywhere, as a host app's own tests would run them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Clock

from plivo_otp_app.config import Settings
from plivo_otp_app.errors import CodeRejected, ProviderRejected, ProviderUnavailable, VerificationExpired
from plivo_otp_app.providers import FakeProvider, build_provider
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService

PHONE = "+14155552671"
IP = "203.0.113.9"


@pytest.fixture
def on_fake(make_settings: Callable[..., Settings], db_url: str, clock: Clock) -> VerificationService:
    settings = make_settings(OTP_PROVIDER="fake")
    fake = build_provider(settings)
    assert isinstance(fake, FakeProvider)
    fake.store.clock = clock.time
    return VerificationService(settings, fake, RateLimits(settings), db_url=db_url, clock=clock.now)


def fake_of(service: VerificationService) -> FakeProvider:
    assert isinstance(service.provider, FakeProvider)
    return service.provider


def test_a_phone_is_verified_with_the_code_the_fake_sent(on_fake: VerificationService):
    started = on_fake.start(PHONE, "US", "sms", IP)
    code = fake_of(on_fake).code_for(PHONE)
    with pytest.raises(CodeRejected):
        on_fake.check(started.verification_id, f"{(int(code) + 1) % 10**6:06d}", IP)
    assert on_fake.check(started.verification_id, code, IP).e164 == PHONE


def test_a_resend_on_the_fake_re_delivers_the_same_code(on_fake: VerificationService, clock: Clock):
    started = on_fake.start(PHONE, "US", "sms", IP)
    first = fake_of(on_fake).code_for(PHONE)
    clock.advance(started.resend_after)
    on_fake.resend(started.verification_id, "sms", IP)
    assert [m.code for m in fake_of(on_fake).messages(PHONE)] == [first, first]
    assert on_fake.check(started.verification_id, first, IP).e164 == PHONE


def test_a_code_past_its_expiry_is_refused(on_fake: VerificationService, clock: Clock):
    started = on_fake.start(PHONE, "US", "sms", IP)
    code = fake_of(on_fake).code_for(PHONE)
    clock.advance(started.expires_in + 1)
    with pytest.raises(VerificationExpired):
        on_fake.check(started.verification_id, code, IP)


@pytest.mark.parametrize(
    ("e164", "error"),
    [
        ("+12025550100", ProviderRejected),
        ("+12025550103", ProviderUnavailable),
        ("+12025550104", ProviderUnavailable),
    ],
)
def test_the_fault_numbers_reach_the_services_error_paths_without_http(
    on_fake: VerificationService, e164: str, error: type[Exception]
):
    with pytest.raises(error):
        on_fake.start(e164, "US", "sms", IP)
    assert fake_of(on_fake).messages(e164) == []
