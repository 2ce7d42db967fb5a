"""The audit trail as the services write it: service -> real plivo SDK -> sandbox over HTTP -> a real
database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

Each event is written when it happens, in the transaction of what it records: a send that fails
leaves no `send_sent`, a change that fails leaves no event of it. Refusals by the pumping policy
and by the rate limits are events too, and a budget or a group trips once per bucket. The owner's
page reads only the owner's own events, and a decoy password reset (a name with no account)
leaves no row at all.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import pytest
from conftest import RELAXED, run_at_once
from sqlalchemy import select

from plivo_otp_app.audit import AuditKind
from plivo_otp_app.db import session as db_session
from plivo_otp_app.db import transaction
from plivo_otp_app.errors import (
    CodeRejected,
    ProviderRejected,
    RateLimited,
    SendRefused,
)
from plivo_otp_app.models import AuditEvent, Verification
from plivo_otp_app.pumping import MICROS
from plivo_otp_app.services import BackupCodeRejected, Services, VerificationService

PASSWORD = "correct horse battery staple quietly"
NEW_PASSWORD = "a brand new passphrase for the cat"
IP = "203.0.113.7"
PHONE_A = "+14155552671"
PHONE_B = "+14155552672"
PHONE_NEW = "+14155552699"
REFUSED_BY_PLIVO = "+12025550100"  # the sandbox answers 400 (sandbox/faults.py)


def events(db_url: str, *kinds: AuditKind) -> list[AuditEvent]:
    """The trail's rows, oldest first (of `kinds` only, when named)."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    query = select(table).order_by(table.c.id)
    if kinds:
        query = query.where(table.c.kind.in_([str(kind) for kind in kinds]))
    with transaction(db_url) as connection:
        return list(connection.execute(query).all())  # type: ignore[arg-type]


def kinds(db_url: str) -> list[str]:
    return [row.kind for row in events(db_url)]


@pytest.fixture
def make(make_accounts: Callable[..., Services]) -> Callable[..., Services]:
    def build(**env: str) -> Services:
        return make_accounts(**{**RELAXED, **env})

    return build


@pytest.fixture
def accounts(make: Callable[..., Services]) -> Services:
    return make()


def sign_up(accounts: Services, sandbox, name: str = "alice", e164: str = PHONE_A) -> int:
    result = accounts.signups.signup(name, None, PASSWORD, e164, "US", "sms", IP)
    assert result.user_id is not None
    code = sandbox.code_for(e164)
    assert accounts.signups.finish_signup(result.user_id, result.started.verification_id, code, IP)
    return result.user_id


def enable_2fa(accounts: Services, sandbox, user_id: int, e164: str = PHONE_A) -> None:
    started = accounts.account_changes.start_enable_2fa(user_id, "sms", IP)
    accounts.account_changes.finish_enable_2fa(user_id, started.verification_id, sandbox.code_for(e164), IP)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def mobile(region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


# Sends


def test_a_send_is_requested_then_sent_with_its_session_and_estimated_cost(service, sandbox, db_url):
    started = service.start(PHONE_A, "US", "sms", IP)

    requested, sent = events(db_url)
    assert (requested.kind, sent.kind) == ("send_requested", "send_sent")
    assert (sent.phone_masked, sent.country, sent.channel, sent.address) == ("+1******2671", "US", "sms", IP)
    with db_session(db_url) as db:
        flow = db.get(Verification, started.verification_id)
    assert flow is not None and sent.provider_session_id == flow.provider_session_id != ""
    assert sent.cost == round(service.settings.pumping.default_price * MICROS) > 0
    assert requested.phone_hash == sent.phone_hash and requested.cost == 0
    code = sandbox.code_for(PHONE_A)
    assert all(code not in " ".join(map(str, row)) for row in events(db_url))  # never the code


def test_a_resend_is_its_own_request_and_send(make_service, sandbox, clock, db_url):
    service = make_service(**RELAXED)
    started = service.start(PHONE_A, "US", "sms", IP)
    clock.advance(service.settings.otp.resend_cooldown_seconds + 1)

    service.resend(started.verification_id, "voice", IP)

    assert kinds(db_url) == ["send_requested", "send_sent", "send_requested", "send_sent"]
    assert events(db_url)[-1].channel == "voice"


def test_a_send_the_provider_refuses_is_a_failure_not_a_send(service, db_url):
    with pytest.raises(ProviderRejected):
        service.start(REFUSED_BY_PLIVO, "US", "sms", IP)

    requested, failed = events(db_url)
    assert (requested.kind, failed.kind) == ("send_requested", "send_failed")
    assert failed.error_code == ProviderRejected.code and failed.cost == 0


def test_a_send_a_rate_limit_refuses_is_limited_and_names_the_limit(make_service, db_url):
    service = make_service(RATE_LIMIT_SEND_PER_NUMBER="1/hour")
    service.start(PHONE_A, "US", "sms", IP)

    with pytest.raises(RateLimited) as refused:
        service.start(PHONE_A, "US", "sms", "198.51.100.9")

    limited = events(db_url, AuditKind.SEND_LIMITED)
    assert [(row.outcome, row.address) for row in limited] == [(refused.value.scope, "198.51.100.9")]
    assert kinds(db_url).count("send_sent") == 1


def test_a_send_the_policy_refuses_is_blocked_with_its_rule_for_the_operator(service, db_url):
    with pytest.raises(SendRefused):
        service.start(mobile("AZ"), "AZ", "sms", IP)

    (blocked,) = events(db_url)
    assert (blocked.kind, blocked.outcome, blocked.country, blocked.address) == (
        "send_blocked",
        "country-high-risk",
        "AZ",
        IP,
    )


def test_a_budget_trips_once_per_cap_and_hour_however_many_sends_it_refuses(make_service, db_url):
    price = 0.05
    service = make_service(**RELAXED, PUMPING_DEFAULT_PRICE=str(price), PUMPING_HOURLY_BUDGET=str(price * 2))
    service.start(PHONE_A, "US", "sms", IP)
    service.start(PHONE_B, "US", "sms", IP)
    for number in ("+14155552673", "+14155552674", "+14155552675"):
        with pytest.raises(SendRefused):
            service.start(number, "US", "sms", IP)

    assert [row.outcome for row in events(db_url, AuditKind.SEND_BLOCKED)] == ["budget-hour"] * 3
    (tripped,) = events(db_url, AuditKind.BUDGET_TRIPPED)
    assert (tripped.outcome, tripped.detail) == ("budget-hour", "budget-hour")


def test_parallel_refusals_trip_a_budget_once(make_service, db_url):
    price = 0.05
    service = make_service(**RELAXED, PUMPING_DEFAULT_PRICE=str(price), PUMPING_HOURLY_BUDGET=str(price))
    service.start(PHONE_A, "US", "sms", IP)

    results = run_at_once(8, lambda i: service.start(f"+1415555{3000 + i}", "US", "sms", IP))

    assert all(isinstance(result, SendRefused) for result in results), results
    assert len(events(db_url, AuditKind.SEND_BLOCKED)) == 8
    assert len(events(db_url, AuditKind.BUDGET_TRIPPED)) == 1


def test_a_group_is_flagged_once_per_window_however_many_sends_it_refuses(make_service, db_url, clock):
    service = make_service(**RELAXED, PUMPING_RANGE_UNVERIFIED="3", PUMPING_REFUSE_FACTOR="1")
    for last in range(3):
        service.start(f"+1415555{last:04d}", "US", "sms", IP)
    for last in range(3, 6):
        with pytest.raises(SendRefused):
            service.start(f"+1415555{last:04d}", "US", "sms", IP)

    (flagged,) = events(db_url, AuditKind.GROUP_FLAGGED)
    assert (flagged.outcome, flagged.detail, flagged.range_key) == (
        "watch-range",
        "range:+1415555",
        "+1415555",
    )
    assert len(events(db_url, AuditKind.SEND_BLOCKED)) == 3

    clock.advance(service.settings.pumping.window_minutes * 60)  # the next window: flagged anew
    for last in range(6, 9):
        service.start(f"+1415555{last:04d}", "US", "sms", IP)
    with pytest.raises(SendRefused):
        service.start("+14155550009", "US", "sms", IP)
    assert len(events(db_url, AuditKind.GROUP_FLAGGED)) == 2


# Codes


def test_a_wrong_code_fails_and_the_right_one_verifies_naming_its_session(service, sandbox, db_url):
    started = service.start(PHONE_A, "US", "sms", IP)
    code = sandbox.code_for(PHONE_A)

    with pytest.raises(CodeRejected):
        service.check(started.verification_id, wrong(code), IP)
    service.check(started.verification_id, code, IP)

    failed, verified = events(db_url, AuditKind.CODE_FAILED, AuditKind.CODE_VERIFIED)
    assert (failed.kind, failed.outcome, verified.kind) == ("code_failed", "wrong", "code_verified")
    session = events(db_url, AuditKind.SEND_SENT)[0].provider_session_id
    assert failed.provider_session_id == verified.provider_session_id == session


def test_a_right_code_whose_change_fails_leaves_no_verified_event(service, sandbox, db_url):
    started = service.start(PHONE_A, "US", "sms", IP)

    def change(_db) -> None:
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        service.check(started.verification_id, sandbox.code_for(PHONE_A), IP, then=change)

    assert events(db_url, AuditKind.CODE_VERIFIED) == []


# Accounts


def test_logins_name_their_factor_and_a_logout_its_session(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    accounts.logins.login("alice", PASSWORD, IP, None)
    token = accounts.sessions.create_session(user_id, IP, "Mozilla/5.0")
    accounts.sessions.end(token)
    accounts.sessions.end(token)  # ended already: nothing more happened

    enable_2fa(accounts, sandbox, user_id)
    pending = accounts.logins.login("alice", PASSWORD, IP, None)
    assert pending.pending_token
    accounts.logins.login_with_code(pending.pending_token, sandbox.code_for(PHONE_A), IP)

    logins = events(db_url, AuditKind.LOGIN)
    assert [(row.user_id, row.outcome, row.address) for row in logins] == [
        (user_id, "password", IP),
        (user_id, "sms", IP),
    ]
    assert [(row.user_id, row.address) for row in events(db_url, AuditKind.LOGOUT)] == [(user_id, IP)]


def test_two_factor_on_and_off_are_events_of_the_account(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    enable_2fa(accounts, sandbox, user_id)
    started = accounts.account_changes.start_disable_2fa(user_id, PASSWORD, "sms", IP)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(CodeRejected):  # a wrong code changes nothing, and records no change
        accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, wrong(code), IP)
    assert events(db_url, AuditKind.TWO_FACTOR_OFF) == []

    accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, code, IP)

    changes = events(db_url, AuditKind.TWO_FACTOR_ON, AuditKind.TWO_FACTOR_OFF)
    assert [(row.kind, row.user_id, row.address) for row in changes] == [
        ("two_factor_on", user_id, IP),
        ("two_factor_off", user_id, IP),
    ]


def test_a_phone_change_records_the_new_number_masked(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    started = accounts.account_changes.start_change_phone(user_id, PASSWORD, PHONE_NEW, "US", "sms", IP)
    accounts.account_changes.finish_change_phone(
        user_id, started.verification_id, sandbox.code_for(PHONE_NEW), IP
    )

    (changed,) = events(db_url, AuditKind.PHONE_CHANGED)
    assert (changed.user_id, changed.phone_masked, changed.detail) == (
        user_id,
        "+1******2699",
        "from +1******2671",
    )


def test_new_backup_codes_are_an_event_and_a_failed_try_is_not(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    enable_2fa(accounts, sandbox, user_id)
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)
    with pytest.raises(BackupCodeRejected):  # no backup code yet: the try fails, nothing changes
        accounts.account_changes.regenerate_backup_codes(
            user_id, started.verification_id, "ABCD-EFGH-JKLM-NPQR", IP, True
        )
    assert events(db_url, AuditKind.BACKUP_CODES_REGENERATED) == []

    accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, sandbox.code_for(PHONE_A), IP
    )

    (regenerated,) = events(db_url, AuditKind.BACKUP_CODES_REGENERATED)
    assert (regenerated.user_id, regenerated.address) == (user_id, IP)


def test_a_lockout_is_an_event_once_the_failures_reach_the_threshold(make, sandbox, db_url):
    accounts = make(OTP_LOCKOUT_AFTER="3", OTP_MAX_ATTEMPTS="10")
    user_id = sign_up(accounts, sandbox)
    enable_2fa(accounts, sandbox, user_id)
    pending = accounts.logins.login("alice", PASSWORD, IP, None)
    code = sandbox.code_for(PHONE_A)
    for attempt in range(3):
        assert events(db_url, AuditKind.LOCKOUT) == [], attempt
        with pytest.raises(CodeRejected):
            accounts.logins.login_with_code(pending.pending_token, wrong(code), IP)

    (locked,) = events(db_url, AuditKind.LOCKOUT)
    assert (locked.user_id, locked.outcome, locked.detail) == (user_id, "sms", "3 failures")


def test_devices_remembered_and_forgotten_are_events(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    ticket = accounts.sessions.issue_ticket(user_id, remember_device=True)
    redeemed = accounts.sessions.redeem_ticket(ticket, IP, "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
    assert redeemed is not None and redeemed.device_token
    (device,) = accounts.sessions.list_devices(user_id)
    assert accounts.sessions.revoke_device(user_id + 1, device.id) is False  # not theirs: nothing happened
    assert events(db_url, AuditKind.DEVICE_REVOKED) == []

    assert accounts.sessions.revoke_device(user_id, device.id)

    (remembered,) = events(db_url, AuditKind.DEVICE_REMEMBERED)
    (revoked,) = events(db_url, AuditKind.DEVICE_REVOKED)
    assert (remembered.user_id, remembered.address, remembered.detail) == (user_id, IP, device.label)
    assert (revoked.user_id, revoked.outcome) == (user_id, "one")


def test_a_password_reset_is_an_event_with_every_session_it_ended(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    accounts.sessions.create_session(user_id, IP, "Mozilla/5.0")
    started = accounts.recovery.start("alice", IP)
    accounts.recovery.check_code(started.verification_id, sandbox.code_for(PHONE_A), IP)

    accounts.recovery.complete(started.verification_id, NEW_PASSWORD, None, IP)

    (reset,) = events(db_url, AuditKind.PASSWORD_RESET)
    (ended,) = events(db_url, AuditKind.LOGOUT)
    assert (reset.user_id, reset.address) == (user_id, IP)
    assert (ended.user_id, ended.outcome, ended.detail) == (user_id, "all", "1 sessions")
    assert {row.user_id for row in events(db_url)} == {user_id}


def test_a_reset_for_a_name_with_no_account_leaves_no_row(accounts, sandbox, db_url):
    started = accounts.recovery.start("nobody-here", IP)
    with pytest.raises(CodeRejected):
        accounts.recovery.check_code(started.verification_id, "123456", IP)

    assert events(db_url) == []


def test_resets_for_names_with_no_account_are_never_refused_by_the_pumping_policy(make, sandbox, db_url):
    """Every decoy's number is made up in one block of the default country and never verified:
    counted by the watch, the block was flagged after 10 of them, and from then on a name with
    no account got `send_refused` where a name with one got its code (a way to tell them apart)."""
    accounts = make(PUMPING_RANGE_UNVERIFIED="5", PUMPING_BLOCK_UNVERIFIED="10", PUMPING_HOURLY_BUDGET="0.2")
    user_id = sign_up(accounts, sandbox)

    for n in range(15):
        accounts.recovery.start(f"nobody-{n}", IP)  # none raises

    assert accounts.recovery.start("alice", IP).verification_id
    assert {row.user_id for row in events(db_url)} == {user_id}  # and left no row


# The owner's page


def test_an_owner_reads_only_their_own_events_newest_first_without_operator_detail(accounts, sandbox, db_url):
    alice = sign_up(accounts, sandbox, "alice", PHONE_A)
    bob = sign_up(accounts, sandbox, "bob", PHONE_B)
    accounts.logins.login("alice", PASSWORD, IP, None)
    accounts.logins.login("bob", PASSWORD, "198.51.100.9", None)
    enable_2fa(accounts, sandbox, bob, PHONE_B)

    shown = accounts.account_changes.security_events(alice)

    assert [event.kind for event in shown] == ["login", "code_verified", "send_sent"]
    assert {event.address for event in shown} == {IP}
    assert shown[-1].masked_phone == "+1 ******2671"
    assert "two_factor_on" in [event.kind for event in accounts.account_changes.security_events(bob)]
    assert all(row.user_id in (alice, bob) for row in events(db_url))


def test_an_owner_is_never_shown_a_refusals_rule(make, sandbox, db_url):
    accounts = make(PUMPING_RANGE_UNVERIFIED="1", PUMPING_REFUSE_FACTOR="1")
    user_id = sign_up(accounts, sandbox)
    accounts.verifications.start("+14155560001", "US", "sms", IP)  # a range with a code unverified
    with pytest.raises(SendRefused):
        accounts.account_changes.start_change_phone(user_id, PASSWORD, "+14155560002", "US", "sms", IP)

    assert events(db_url, AuditKind.SEND_BLOCKED)[0].user_id == user_id
    assert "send_blocked" not in [event.kind for event in accounts.account_changes.security_events(user_id)]


@pytest.fixture
def service(make_service: Callable[..., VerificationService]) -> VerificationService:
    return make_service(**RELAXED)
