"""`VerificationService` end to end: service -> real SDK -> sandbox over HTTP -> SQLite.

Attempt cap and lockout (BF-01), code format (INP-02), app-side expiry
(OTP-02), single use (OTP-03), resend with the same code and a growing
cooldown (OTP-04), landline rules per channel, superseding, refunds when the
provider is down (PRV-01), concurrency (BND-03, BND-04), send limits through
the service, and what reaches the logs (LOG-01, LOG-02, OTP-05).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import run_at_once, sandbox_provider

from plivo_otp_app.db import session as db_session
from plivo_otp_app.db import transaction
from plivo_otp_app.errors import (
    CodeRejected,
    InvalidInput,
    InvalidPhone,
    NoAttemptsLeft,
    ProviderUnavailable,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
)
from plivo_otp_app.log import JsonFormatter
from plivo_otp_app.models import Verification
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService, verification_sql

PHONE = "+14155552671"
TYPED = "(415) 555-2671"
IP = "203.0.113.5"
GB_LANDLINE = "+44 20 7946 0958"
GB_LANDLINE_E164 = "+442079460958"
THREADS = 20


def start(service: VerificationService, raw: str = TYPED, country: str = "US", channel: str = "sms"):
    return service.start(raw, country, channel, IP)


def row(db_url: str, verification_id: str) -> Verification:
    with db_session(db_url) as db:
        record = db.get(Verification, verification_id)
    assert record is not None
    return record


def provider_session(sandbox, record: Verification):
    return sandbox.store.get(record.provider_session_id)


def wrong_codes(code: str, count: int) -> list[str]:
    return [f"{(int(code) + i) % 10 ** len(code):0{len(code)}d}" for i in range(1, count + 1)]


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_wrong_codes_count_down_then_lock_even_the_right_code(service, sandbox, db_url):
    started = start(service)
    code = sandbox.code_for(PHONE)
    wrong = wrong_codes(code, 5)

    left = []
    for guess in wrong[:4]:
        with pytest.raises(CodeRejected) as rejected:
            service.check(started.verification_id, guess, IP)
        left.append(rejected.value.attempts_left)
    assert left == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, wrong[4], IP)
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, code, IP)
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, code, IP)

    record = row(db_url, started.verification_id)
    assert record.status == "failed"
    assert record.attempts == 5
    assert provider_session(sandbox, record).validations == 5  # no 6th call to the provider
    assert provider_session(sandbox, record).status == "in-progress"


def test_max_attempts_setting_is_the_cap(make_service, sandbox, db_url):
    service = make_service(OTP_MAX_ATTEMPTS="2")
    started = start(service)
    code = sandbox.code_for(PHONE)
    with pytest.raises(CodeRejected) as rejected:
        service.check(started.verification_id, wrong_codes(code, 1)[0], IP)
    assert rejected.value.attempts_left == 1
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, wrong_codes(code, 2)[1], IP)
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, code, IP)
    assert provider_session(sandbox, row(db_url, started.verification_id)).validations == 2


def test_restarting_the_same_number_does_not_reset_the_attempts_on_the_same_code(service, sandbox, db_url):
    first = start(service)
    code = sandbox.code_for(PHONE)
    for guess in wrong_codes(code, 3):
        with pytest.raises(CodeRejected):
            service.check(first.verification_id, guess, IP)

    second = start(service)  # Plivo keeps the live session: the same code is delivered again
    assert sandbox.code_for(PHONE) == code
    assert (
        row(db_url, second.verification_id).provider_session_id
        == row(db_url, first.verification_id).provider_session_id
    )
    for guess in wrong_codes(code, 5)[3:]:
        with pytest.raises((CodeRejected, TooManyAttempts)):
            service.check(second.verification_id, guess, IP)
    with pytest.raises(TooManyAttempts):
        service.check(second.verification_id, code, IP)
    # At most max_attempts guesses against one code, however many flows were started.
    assert provider_session(sandbox, row(db_url, second.verification_id)).validations == 5


def test_a_burnt_code_blocks_new_sends_until_it_expires(service, sandbox, clock):
    locked = start(service)
    code = sandbox.code_for(PHONE)
    for guess in wrong_codes(code, 5):
        with pytest.raises((CodeRejected, TooManyAttempts)):
            service.check(locked.verification_id, guess, IP)
    clock.advance(60)
    with pytest.raises(RateLimited) as limited:
        start(service)
    assert limited.value.scope == "verification-locked"
    assert 230 <= limited.value.retry_after <= 241  # the rest of the 300 s expiry
    assert len(sandbox.store.messages(PHONE)) == 1  # no paid send for a code already guessed at
    clock.advance(limited.value.retry_after)
    start(service)
    assert len(sandbox.store.messages(PHONE)) == 2


def test_a_new_code_after_the_provider_session_ends_gets_fresh_attempts(service, sandbox, clock, db_url):
    locked = start(service)
    old_code = sandbox.code_for(PHONE)
    for guess in wrong_codes(old_code, 5):
        with pytest.raises((CodeRejected, TooManyAttempts)):
            service.check(locked.verification_id, guess, IP)
    clock.advance(sandbox.store.expiry_seconds + 1)

    fresh = start(service)
    record = row(db_url, fresh.verification_id)
    assert record.provider_session_id != row(db_url, locked.verification_id).provider_session_id
    assert record.attempts == 0
    assert service.check(fresh.verification_id, sandbox.code_for(PHONE), IP).e164 == PHONE


def test_a_new_flow_after_success_gets_a_new_session(service, sandbox, db_url):
    first = start(service)
    service.check(first.verification_id, sandbox.code_for(PHONE), IP)
    second = start(service)
    record = row(db_url, second.verification_id)
    assert record.provider_session_id != row(db_url, first.verification_id).provider_session_id
    assert record.attempts == 0
    assert row(db_url, first.verification_id).status == "verified"  # not superseded after the fact
    service.check(second.verification_id, sandbox.code_for(PHONE), IP)


@pytest.mark.parametrize(
    "code",
    [
        "12345",
        "1234567",
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
        "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
        "abcdef",
        "12 456",
        "12345\n",
        "",
        None,
        123456,
        ["123456"],
    ],
)
def test_malformed_code_is_invalid_input_and_not_forwarded(service, sandbox, db_url, code):
    started = start(service)
    with pytest.raises(InvalidInput):
        service.check(started.verification_id, code, IP)
    record = row(db_url, started.verification_id)
    assert provider_session(sandbox, record).validations == 0
    assert record.status == "pending"
    service.check(started.verification_id, sandbox.code_for(PHONE), IP)


def test_code_length_setting_is_enforced_before_the_provider(make_service, sandbox, db_url):
    service = make_service(OTP_CODE_LENGTH="8")
    started = start(service)
    code = sandbox.code_for(PHONE)
    assert len(code) == 8
    with pytest.raises(InvalidInput):
        service.check(started.verification_id, code[:6], IP)
    assert provider_session(sandbox, row(db_url, started.verification_id)).validations == 0
    assert service.check(started.verification_id, code, IP).e164 == PHONE


def test_right_code_just_before_app_expiry_is_accepted(service, sandbox, clock):
    started = start(service)
    clock.advance(service.settings.otp.expiry_seconds - 1)
    assert service.check(started.verification_id, sandbox.code_for(PHONE), IP).e164 == PHONE


@pytest.mark.parametrize("expiry", ["60", "300"])
def test_app_expiry_refuses_the_right_code_while_the_provider_would_accept_it(
    make_service, sandbox, clock, db_url, expiry
):
    sandbox.store.expiry_seconds = 900  # the provider's own expiry is longer than the app's
    service = make_service(OTP_EXPIRY_SECONDS=expiry)
    started = start(service)
    assert started.expires_in == int(expiry)
    clock.advance(int(expiry) + 1)
    with pytest.raises(VerificationExpired):
        service.check(started.verification_id, sandbox.code_for(PHONE), IP)
    record = row(db_url, started.verification_id)
    assert record.status == "expired"
    session = provider_session(sandbox, record)
    assert session.validations == 0
    assert session.status == "in-progress"
    with pytest.raises(VerificationExpired):
        service.resend(started.verification_id, "sms", IP)


def test_verified_verification_refuses_its_code_again(service, sandbox, db_url):
    started = start(service)
    code = sandbox.code_for(PHONE)
    checked = service.check(started.verification_id, code, IP)
    assert checked.verification_id == started.verification_id
    assert checked.masked == "+1******2671"
    with pytest.raises(VerificationExpired):
        service.check(started.verification_id, code, IP)
    with pytest.raises(VerificationExpired):
        service.resend(started.verification_id, "sms", IP)
    record = row(db_url, started.verification_id)
    assert record.status == "verified"
    assert record.verified_at is not None
    assert provider_session(sandbox, record).validations == 1


@pytest.mark.parametrize(
    "verification_id",
    [
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        "",
        "not-a-uuid",
        "../../etc/passwd",
        "' OR 1=1 --",
        None,
        123,
        ["x"],
    ],
)
def test_unknown_or_garbage_verification_id_is_expired(service, sandbox, verification_id):
    start(service)
    with pytest.raises(VerificationExpired):
        service.check(verification_id, sandbox.code_for(PHONE), IP)
    with pytest.raises(VerificationExpired):
        service.resend(verification_id, "sms", IP)


def test_provider_session_id_is_not_a_verification_id(service, sandbox, db_url):
    started = start(service)
    provider_id = row(db_url, started.verification_id).provider_session_id
    assert provider_id != started.verification_id
    with pytest.raises(VerificationExpired):
        service.check(provider_id, sandbox.code_for(PHONE), IP)
    assert sandbox.store.get(provider_id).validations == 0


def test_resend_cooldown_then_same_code_and_longer_cooldown(service, sandbox, clock, db_url):
    started = start(service)
    code = sandbox.code_for(PHONE)
    assert started.resend_after == 30

    with pytest.raises(RateLimited) as early:
        service.resend(started.verification_id, "sms", IP)
    assert early.value.scope == "resend-cooldown"
    assert 29 <= early.value.retry_after <= 30
    assert len(sandbox.store.messages(PHONE)) == 1

    clock.advance(31)
    again = service.resend(started.verification_id, "sms", IP)
    assert again.verification_id == started.verification_id
    assert again.resend_after == 60
    messages = sandbox.store.messages(PHONE)
    assert len(messages) == 2
    assert {m.code for m in messages} == {code}

    with pytest.raises(RateLimited) as longer:
        service.resend(started.verification_id, "sms", IP)
    assert longer.value.scope == "resend-cooldown"
    assert 59 <= longer.value.retry_after <= 60
    assert row(db_url, started.verification_id).sends == 2

    assert service.check(started.verification_id, code, IP).e164 == PHONE


def test_a_resend_refused_by_a_send_limit_costs_no_slot_and_no_cooldown(make_service, sandbox, clock, db_url):
    strict = make_service(RATE_LIMIT_SEND_PER_NUMBER="1/hour")
    started = start(strict)
    clock.advance(31)
    with pytest.raises(RateLimited) as refused:
        strict.resend(started.verification_id, "voice", IP)
    assert refused.value.scope == "send-number" and len(sandbox.store.messages(PHONE)) == 1
    record = row(db_url, started.verification_id)
    assert (record.sends, record.channel) == (1, "sms")

    later = make_service()  # the limit has passed: the next resend is the second send, not the third
    again = later.resend(started.verification_id, "sms", IP)
    assert again.resend_after == 60 and row(db_url, started.verification_id).sends == 2
    assert len(sandbox.store.messages(PHONE)) == 2


def test_a_resend_the_provider_timed_out_on_keeps_its_slot(make_service, sandbox, clock, db_url):
    """A timeout may have delivered the code: the slot stays spent, so a resend cannot be looped free."""
    service = make_service()
    started = start(service)
    clock.advance(31)
    down = VerificationService(
        service.settings,
        sandbox_provider(f"http://127.0.0.1:{closed_port()}"),
        service.limits,
        db_url=db_url,
        clock=clock.now,
    )
    with pytest.raises(ProviderUnavailable):
        down.resend(started.verification_id, "sms", IP)
    assert row(db_url, started.verification_id).sends == 2
    with pytest.raises(RateLimited) as cooldown:
        service.resend(started.verification_id, "sms", IP)
    assert cooldown.value.scope == "resend-cooldown"


def test_resend_by_voice_records_voice(service, sandbox, clock, db_url):
    started = start(service, channel="sms")
    code = sandbox.code_for(PHONE)
    clock.advance(31)
    again = service.resend(started.verification_id, "voice", IP)
    assert again.channel == "voice"
    assert row(db_url, started.verification_id).channel == "voice"
    newest = sandbox.store.messages(PHONE)[0]
    assert newest.channel == "voice"
    assert newest.code == code
    assert provider_session(sandbox, row(db_url, started.verification_id)).channel == "voice"


@pytest.mark.parametrize("channel", ["whatsapp", "SMS", None, ""])
def test_resend_with_an_unknown_channel_is_invalid_input(service, sandbox, clock, channel):
    started = start(service)
    clock.advance(31)
    with pytest.raises(InvalidInput):
        service.resend(started.verification_id, channel, IP)
    assert len(sandbox.store.messages(PHONE)) == 1


def test_landline_by_voice_cannot_switch_to_sms(service, sandbox, clock, db_url):
    with pytest.raises(InvalidPhone):
        service.start(GB_LANDLINE, "GB", "sms", IP)
    assert sandbox.store.messages(GB_LANDLINE_E164) == []

    started = service.start(GB_LANDLINE, "GB", "voice", IP)
    assert started.e164 == GB_LANDLINE_E164
    assert started.channel == "voice"
    clock.advance(31)
    with pytest.raises(InvalidPhone):
        service.resend(started.verification_id, "sms", IP)
    assert [m.channel for m in sandbox.store.messages(GB_LANDLINE_E164)] == ["voice"]
    record = row(db_url, started.verification_id)
    assert (record.sends, record.channel) == (1, "voice")

    service.resend(started.verification_id, "voice", IP)
    assert len(sandbox.store.messages(GB_LANDLINE_E164)) == 2


def test_new_start_supersedes_the_old_verification(service, sandbox, db_url):
    old = start(service)
    new = start(service, "+1 415 555 2671")
    code = sandbox.code_for(PHONE)
    assert new.verification_id != old.verification_id
    with pytest.raises(VerificationExpired):
        service.check(old.verification_id, code, IP)
    assert row(db_url, old.verification_id).status == "superseded"
    assert service.check(new.verification_id, code, IP).verification_id == new.verification_id
    with pytest.raises(VerificationExpired):
        service.check(old.verification_id, code, IP)


def test_a_send_left_recorded_but_unsent_blocks_and_verifies_nothing(service, sandbox, db_url, clock):
    """A process that died between recording a send and the provider's answer leaves a
    `sending` row: it takes no code, no resend, and neither supersedes nor is superseded."""
    live = start(service)
    code = sandbox.code_for(PHONE)
    stranded = {
        "id": str(uuid.uuid4()),
        "purpose": "verify",
        "user_id": None,
        "phone": PHONE,
        "channel": "sms",
        "max_attempts": 5,
        "sends": 1,
        "client_ip": IP,
        "created_at": clock.now(),
        "expires_at": clock.now() + timedelta(minutes=5),
        "next_send_at": clock.now(),
        "verified_at": None,
    }
    with transaction(db_url) as db:
        verification_sql.reserve(db, stranded)
    with pytest.raises(VerificationExpired):
        service.check(stranded["id"], code, IP)
    with pytest.raises(VerificationExpired):
        service.resend(stranded["id"], "sms", IP)
    assert row(db_url, live.verification_id).status == "pending"
    assert service.check(live.verification_id, code, IP).e164 == PHONE
    fresh = start(service)  # not blocked by it
    assert row(db_url, fresh.verification_id).status == "pending"
    assert row(db_url, stranded["id"]).status == "sending"


def test_start_for_another_number_leaves_the_first_alone(service, sandbox):
    first = start(service)
    start(service, "+1 415 555 0123")
    assert service.check(first.verification_id, sandbox.code_for(PHONE), IP).e164 == PHONE


def _unreachable_service(service: VerificationService, db_url: str, clock) -> VerificationService:
    """The same settings and database, but the provider on a closed loopback port."""
    provider = sandbox_provider(f"http://127.0.0.1:{closed_port()}")
    return VerificationService(
        service.settings, provider, RateLimits(service.settings), db_url=db_url, clock=clock.now
    )


def test_provider_down_during_check_refunds_the_attempt(service, sandbox, db_url, clock):
    started = start(service)
    code = sandbox.code_for(PHONE)
    with pytest.raises(CodeRejected) as first:
        service.check(started.verification_id, wrong_codes(code, 1)[0], IP)
    assert first.value.attempts_left == 4

    down = _unreachable_service(service, db_url, clock)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            down.check(started.verification_id, code, IP)
    record = row(db_url, started.verification_id)
    assert record.attempts == 1
    assert record.status == "pending"

    with pytest.raises(CodeRejected) as second:
        service.check(started.verification_id, wrong_codes(code, 2)[1], IP)
    assert second.value.attempts_left == 3
    assert service.check(started.verification_id, code, IP).e164 == PHONE


def test_provider_down_during_start_records_nothing(service, sandbox, db_url, clock):
    down = _unreachable_service(service, db_url, clock)
    with pytest.raises(ProviderUnavailable):
        start(down)
    with db_session(db_url) as db:
        assert db.query(Verification).count() == 0


def test_concurrent_right_codes_succeed_exactly_once(service, sandbox, db_url):
    started = start(service)
    code = sandbox.code_for(PHONE)
    results = run_at_once(THREADS, lambda _: service.check(started.verification_id, code, IP))

    successes = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(successes) == 1
    assert all(isinstance(f, VerificationExpired | TooManyAttempts) for f in failures), failures
    record = row(db_url, started.verification_id)
    assert record.status == "verified"
    assert record.attempts <= record.max_attempts
    assert provider_session(sandbox, record).validations <= record.max_attempts


@pytest.mark.parametrize("threads", [THREADS, 50])
def test_concurrent_wrong_codes_never_exceed_the_cap(make_service, sandbox, db_url, threads):
    service = make_service(RATE_LIMIT_VERIFY_PER_IP="1000/minute")
    started = start(service)
    code = sandbox.code_for(PHONE)
    guesses = wrong_codes(code, threads)
    results = run_at_once(threads, lambda i: service.check(started.verification_id, guesses[i], IP))

    # Every guess is answered as a failure: counted wrong (4 + the last), or refused unchecked.
    assert all(isinstance(r, CodeRejected | TooManyAttempts) for r in results), results
    assert sum(isinstance(r, NoAttemptsLeft) for r in results) == threads - 5
    rejected = sorted(r.attempts_left for r in results if isinstance(r, CodeRejected))
    assert rejected == [1, 2, 3, 4]  # every counted attempt got its own number: no lost update
    record = row(db_url, started.verification_id)
    assert record.attempts == record.max_attempts == 5
    assert record.status == "failed"
    assert provider_session(sandbox, record).validations <= 5
    with pytest.raises(TooManyAttempts):
        service.check(started.verification_id, code, IP)


@pytest.mark.parametrize(
    "typed",
    [
        [
            ("(415) 555-2671", "US"),
            ("+1 415-555-2671", "GB"),
            ("4155552671", "US"),
            ("001 415 555 2671", "US"),
        ],
        [
            ("+14155552671", "DE"),
            ("415.555.2671", "US"),
            ("1 (415) 555 2671", "US"),
            ("+1 (415) 5552671", "FR"),
        ],
    ],
)
def test_fourth_start_for_one_number_is_rate_limited(service, sandbox, typed):
    for index, (raw, country) in enumerate(typed[:3]):
        started = service.start(raw, country, "sms", f"198.51.100.{index + 1}")
        assert started.e164 == PHONE
    raw, country = typed[3]
    with pytest.raises(RateLimited) as limited:
        service.start(raw, country, "sms", "198.51.100.99")
    assert limited.value.scope == "send-number"
    assert limited.value.retry_after > 1
    assert len(sandbox.store.messages(PHONE)) == 3  # the 4th never reached the provider


def _text(record: logging.LogRecord) -> str:
    return JsonFormatter().format(record) + " " + json.dumps(getattr(record, "fields", {}), default=str)


def test_logs_carry_events_but_no_number_and_no_code(service, sandbox, clock, caplog):
    caplog.set_level(logging.DEBUG, logger="plivo_otp_app")
    started = start(service)
    code = sandbox.code_for(PHONE)
    [wrong] = wrong_codes(code, 1)
    with pytest.raises(CodeRejected):
        service.check(started.verification_id, wrong, IP)
    with pytest.raises(InvalidInput):
        service.check(started.verification_id, "12345", IP)
    clock.advance(31)
    service.resend(started.verification_id, "voice", IP)
    service.check(started.verification_id, code, IP)
    with pytest.raises(VerificationExpired):
        service.check(started.verification_id, code, IP)
    with pytest.raises(InvalidPhone):
        service.start(GB_LANDLINE, "GB", "sms", IP)
    landline = service.start(GB_LANDLINE, "GB", "voice", IP)
    landline_code = sandbox.code_for(GB_LANDLINE_E164)

    records = [r for r in caplog.records if r.name.startswith("plivo_otp_app")]
    events = [r.getMessage() for r in records]
    for expected in ("send_requested", "sent", "validate_failed", "validate_ok"):
        assert expected in events, events
    assert events.count("validate_ok") == 1

    secrets = [PHONE, PHONE.lstrip("+"), "4155552671", GB_LANDLINE_E164, GB_LANDLINE_E164.lstrip("+")]
    secrets += [started.verification_id, landline.verification_id]
    codes = {code, wrong, landline_code}
    for record in records:
        assert isinstance(getattr(record, "fields", None), dict), record
        text = _text(record)
        for secret in secrets:
            assert secret not in text, (secret, text)
        for value in codes:
            assert not re.search(rf"(?<![0-9]){value}(?![0-9])", text), (value, text)
        assert not re.search(r"\+?[0-9]{8,15}", text.replace(" ", "")), text

    masked = {r.fields.get("phone") for r in records if "phone" in r.fields}
    assert masked == {"+1******2671", "+44******0958"}


def test_a_code_is_bound_to_its_purpose_and_user(service, sandbox, db_url):
    """BND-07: a code sent for one purpose or user cannot complete another."""
    from plivo_otp_app.models import User

    with db_session(db_url) as db:
        now = datetime.now(UTC)
        for name in ("alice", "mallory"):
            db.add(
                User(username=name, display_username=name, password_hash="x", created_at=now, updated_at=now)
            )
        db.commit()
    started = service.start(TYPED, "US", "sms", IP, purpose="signup", user_id=1)
    code = sandbox.code_for(PHONE)
    for purpose, user_id in (("login", 1), ("signup", 2), ("signup", None), ("verify", None)):
        with pytest.raises(VerificationExpired):
            service.check(started.verification_id, code, IP, purpose=purpose, user_id=user_id)
    assert provider_session(sandbox, row(db_url, started.verification_id)).validations == 0
    checked = service.check(started.verification_id, code, IP, purpose="signup", user_id=1)
    assert (checked.purpose, checked.user_id) == ("signup", 1)


def test_a_resend_into_a_new_provider_session_checks_its_new_code(make_service, sandbox, clock):
    """The provider's session ended before the app's code (Plivo's application expiry shorter than
    OTP_EXPIRY_SECONDS): the resend opens a new one with a new code, which must check. On
    PostgreSQL the new code's row was added but not seen as added (no row count for an insert
    that may do nothing), and the right code was refused as 'attempts used up'."""
    service = make_service(OTP_RESEND_COOLDOWN_SECONDS="1")
    sandbox.store.expiry_seconds = 60
    sent = service.start("+14155552671", "US", "sms", "203.0.113.9")
    clock.advance(61)
    again = service.resend(sent.verification_id, "sms", "203.0.113.9")
    assert len(sandbox.store.sessions()) == 2  # a new provider session, a new code
    code = sandbox.code_for("+14155552671")
    assert service.check(again.verification_id, code, "203.0.113.9").e164 == "+14155552671"
