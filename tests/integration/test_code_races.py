"""Codes and races, end to end: services -> real plivo SDK -> sandbox over HTTP -> the test database.

The guesses at one delivered code are capped across every flow the provider answered with
that code, whatever its purpose or user; parallel guesses at one account's codes are judged
at most up to the lockout threshold; parallel starts of one flow leave one pending row.
Run on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import RELAXED, one_verify_application, run_at_once
from sqlmodel import select

from plivo_otp_app.db import session as db_session
from plivo_otp_app.errors import (
    CodeRejected,
    NoAttemptsLeft,
    OtpError,
    ProviderRejected,
    RateLimited,
    TooManyAttempts,
)
from plivo_otp_app.models import User, Verification
from plivo_otp_app.services import Services, Started

PASSWORD = "correct horse battery staple quietly"
IP = "203.0.113.7"
STRANGER_IP = "198.51.100.66"
PHONE = "+14155552671"
NEW_PHONES = [f"+1415555268{i}" for i in range(5)]


@pytest.fixture
def make(make_accounts: Callable[..., Services]) -> Callable[..., Services]:
    # A check that timed out gives its guess back, though the sandbox may have judged it: the
    # races count judged guesses, so none may time out while fifty threads share the process.
    def build(**env: str) -> Services:
        return make_accounts(**{**RELAXED, "PLIVO_READ_TIMEOUT": "10", **env})

    return build


def wrong_codes(code: str, count: int) -> list[str]:
    return [f"{(int(code) + i) % 10 ** len(code):0{len(code)}d}" for i in range(1, count + 1)]


def validations(sandbox, e164: str) -> int:
    """How many codes the provider judged for `e164`, over all its sessions."""
    return sum(s.validations for s in sandbox.store.sessions() if "+" + s.recipient == e164)


def user_with_2fa(accounts: Services, sandbox) -> int:
    signed_up = accounts.signups.signup("alice", None, PASSWORD, PHONE, "US", "sms", IP)
    assert signed_up.user_id is not None
    accounts.signups.finish_signup(
        signed_up.user_id, signed_up.started.verification_id, sandbox.code_for(PHONE), IP
    )
    started = accounts.account_changes.start_enable_2fa(signed_up.user_id, "sms", IP)
    accounts.account_changes.finish_enable_2fa(
        signed_up.user_id, started.verification_id, sandbox.code_for(PHONE), IP
    )
    return signed_up.user_id


def pending_rows(db_url: str) -> list[Verification]:
    with db_session(db_url) as db:
        return list(db.exec(select(Verification).where(Verification.status == "pending")).all())


# Item 10: the cap is per delivered code


def test_five_public_then_four_signup_guesses_never_reach_the_right_code(make, sandbox, db_url):
    """The issue's script: 5 wrong on a public verification, 4 on a sign-up of the same number,
    then the right code on the sign-up; it succeeded on the 10th guess."""
    accounts = make()
    verifications = accounts.verifications
    public = verifications.start(PHONE, "US", "sms", STRANGER_IP)
    signup = accounts.signups.signup("mallory", None, PASSWORD, PHONE, "US", "sms", STRANGER_IP)
    code = sandbox.code_for(PHONE)
    assert [m.code for m in sandbox.store.messages(PHONE)] == [code, code]  # one code, delivered twice

    guesses = wrong_codes(code, 9)
    for guess in guesses[:4]:
        with pytest.raises(CodeRejected):
            verifications.check(public.verification_id, guess, STRANGER_IP)
    with pytest.raises(TooManyAttempts):
        verifications.check(public.verification_id, guesses[4], STRANGER_IP)
    for guess in [*guesses[5:], code]:
        with pytest.raises(NoAttemptsLeft):
            accounts.signups.finish_signup(signup.user_id, signup.started.verification_id, guess, STRANGER_IP)

    assert validations(sandbox, PHONE) == 5  # the settings' OTP_MAX_ATTEMPTS, over both flows
    with db_session(db_url) as db:
        user = db.get(User, signup.user_id)
    assert user is not None and not user.is_phone_verified


def test_guesses_at_one_code_are_shared_across_flows_in_any_order(make, sandbox, db_url):
    """Interleaved guesses on two flows that hold one code: one count, five judged in all."""
    accounts = make()
    verifications = accounts.verifications
    signup = accounts.signups.signup("mallory", None, PASSWORD, PHONE, "US", "sms", STRANGER_IP)
    flows = [
        verifications.start(PHONE, "US", "sms", STRANGER_IP).verification_id,
        signup.started.verification_id,
    ]
    code = sandbox.code_for(PHONE)
    signup_user = signup.user_id
    answers: list[object] = []
    for index, guess in enumerate(wrong_codes(code, 8)):
        flow = flows[index % 2]
        try:
            if flow == flows[0]:
                verifications.check(flow, guess, STRANGER_IP)
            else:
                verifications.check(flow, guess, STRANGER_IP, "signup", signup_user)
        except OtpError as exc:
            answers.append(exc)
    left = [a.attempts_left for a in answers if type(a) is CodeRejected]
    assert left == [4, 3, 2, 1]  # one count, going down whichever flow is guessed at
    assert validations(sandbox, PHONE) == 5


def test_parallel_guesses_over_flows_sharing_a_code_never_pass_the_cap(make, sandbox, db_url):
    accounts = make(RATE_LIMIT_VERIFY_PER_IP="1000/minute")
    verifications = accounts.verifications
    public = verifications.start(PHONE, "US", "sms", STRANGER_IP).verification_id
    signup = accounts.signups.signup("mallory", None, PASSWORD, PHONE, "US", "sms", STRANGER_IP)
    code = sandbox.code_for(PHONE)
    guesses = wrong_codes(code, 40)

    def guess(index: int) -> object:
        if index % 2:
            return verifications.check(public, guesses[index], STRANGER_IP)
        return verifications.check(
            signup.started.verification_id, guesses[index], STRANGER_IP, "signup", signup.user_id
        )

    results = run_at_once(40, guess)
    assert all(isinstance(r, CodeRejected | TooManyAttempts) for r in results), results
    assert validations(sandbox, PHONE) == 5


def test_a_code_burnt_by_a_stranger_gives_the_owner_the_exact_wait_and_the_backup_code(
    make, sandbox, db_url, clock
):
    """With one Verify application (no PLIVO_ACCOUNT_APP_UUID) Plivo delivers the same code to
    the number while it lives, so a login code sent now would be the stranger's burnt one: the
    owner is told exactly how long until a fresh code can be sent, and a backup code signs in
    meanwhile."""
    accounts = make()
    accounts.verifications.settings = one_verify_application(accounts.verifications.settings)
    user_id = user_with_2fa(accounts, sandbox)
    started = accounts.account_changes.start_backup_codes(
        user_id, PASSWORD, "sms", IP
    )  # the password, then the phone
    codes = accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, sandbox.code_for(PHONE), IP
    )
    clock.advance(301)  # the owner's own codes are dead
    public = accounts.verifications.start(PHONE, "US", "sms", STRANGER_IP)
    stranger_code = sandbox.code_for(PHONE)
    for guess in wrong_codes(stranger_code, 5):
        with pytest.raises((CodeRejected, TooManyAttempts)):
            accounts.verifications.check(public.verification_id, guess, STRANGER_IP)
    clock.advance(100)

    result = accounts.logins.login("alice", PASSWORD, IP, None)
    assert isinstance(result.send_error, RateLimited)
    assert 195 <= result.send_error.retry_after <= 201  # the rest of the burnt code's 300 s
    assert sandbox.code_for(PHONE) == stranger_code  # no paid send of the burnt code
    assert accounts.logins.login_with_backup_code(result.pending_token, codes[0], IP) == user_id
    assert accounts.account_changes.view(user_id).two_factor_enabled


# Item 11: the lockout is decided atomically


def test_fifty_parallel_wrong_guesses_over_several_flows_judge_at_most_the_threshold(make, sandbox, db_url):
    """Five phone changes of one account (five codes, ten attempts each), fifty wrong guesses
    at once: no more than OTP_LOCKOUT_AFTER reach the provider before the lock."""
    accounts = make(OTP_MAX_ATTEMPTS="10", OTP_LOCKOUT_AFTER="10", RATE_LIMIT_VERIFY_PER_IP="1000/minute")
    user_id = user_with_2fa(accounts, sandbox)
    confirming = accounts.account_changes.start_confirm_phone_change(
        user_id, PASSWORD, "sms", IP
    )  # the current phone first
    accounts.account_changes.confirm_phone_change(
        user_id, confirming.verification_id, sandbox.code_for(PHONE), IP
    )
    flows = [
        accounts.account_changes.start_new_phone(user_id, phone, "US", "sms", IP).verification_id
        for phone in NEW_PHONES
    ]
    guesses = {phone: wrong_codes(sandbox.code_for(phone), 10) for phone in NEW_PHONES}

    def guess(index: int) -> object:
        phone = NEW_PHONES[index % 5]
        return accounts.account_changes.finish_change_phone(
            user_id, flows[index % 5], guesses[phone][index // 5], IP
        )

    results = run_at_once(50, guess)
    assert all(isinstance(r, OtpError) for r in results), results
    judged = sum(validations(sandbox, phone) for phone in NEW_PHONES)
    assert 1 <= judged <= 10
    with db_session(db_url) as db:
        user = db.get(User, user_id)
    assert user is not None and user.phone_number == PHONE
    assert user.failed_otp_count == judged
    assert user.locked_until is not None
    until = user.locked_until if user.locked_until.tzinfo else user.locked_until.replace(tzinfo=UTC)
    assert until > datetime.now(UTC)


# Item 13: one pending flow per number, purpose and user


@pytest.mark.parametrize("purpose", ["verify", "login"])
def test_parallel_starts_leave_exactly_one_pending_flow(make, sandbox, db_url, purpose):
    accounts = make()
    user_id = user_with_2fa(accounts, sandbox) if purpose == "login" else None
    sandbox.store.clear()
    before = {row.id for row in pending_rows(db_url)}

    results = run_at_once(
        20, lambda _: accounts.verifications.start(PHONE, "US", "sms", IP, purpose, user_id)
    )

    # The sandbox, like Plivo, delivers one session's code at most 10 times.
    assert all(isinstance(r, Started | ProviderRejected) for r in results), results
    assert any(isinstance(r, Started) for r in results)
    pending = [row for row in pending_rows(db_url) if row.id not in before]
    assert len(pending) == 1, [(row.id, row.purpose, row.user_id) for row in pending]
    assert pending[0].purpose == purpose and pending[0].user_id == user_id
    assert pending[0].id in {r.verification_id for r in results if isinstance(r, Started)}
