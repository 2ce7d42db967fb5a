"""The account services end to end: service -> real plivo SDK -> sandbox over HTTP -> SQLite.

What a user or an attacker sees of sign-up, login with an SMS second factor,
lockout, backup codes, switching 2FA on and off and changing the phone.

Sign-up stores the phone unverified until its code is right, refuses bad input
(password rules: PWD-02) before creating anything, and answers a taken name
like a free one (ENUM-01).
Login: unknown user and wrong password look and cost the same (ENUM-01,
ENUM-02, PWD-01); "password OK, code pending" grants nothing and expires
(SES-02); a code is bound to its user and purpose (BND-01, BND-07) and works
once, even under concurrency (BND-03); password attempts are limited.
One failure counter per account across logins, resends, 2FA changes, phone
changes and backup codes (BF-02, BF-07), a doubling lockout (BF-03) during
which the right code is answered like a wrong one (BF-04) and nothing counts
(BF-05). Backup codes are hashed, single use and revocable (LIFE-05); 2FA and
phone changes need the password and a fresh code (SES-09, LIFE-02), revoke
remembered devices, and a phone change notifies the old number (LIFE-03).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import RELAXED, run_at_once
from sqlalchemy import func, select, text

from plivo_otp_app.db import session as db_session
from plivo_otp_app.errors import (
    BackupCodeStartOver,
    CodeRejected,
    InvalidCredentials,
    InvalidInput,
    InvalidPhone,
    LoginExpired,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
)
from plivo_otp_app.models import AuthSession, BackupCode, PendingLogin, User
from plivo_otp_app.services import BackupCodeRejected, LoginResult, Services, SignupResult

PASSWORD = "correct horse battery staple quietly"
IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"
PHONE_A = "+14155552671"
TYPED_A = "(415) 555-2671"
PHONE_B = "+14155552672"
PHONE_C = "+14155552673"
THREADS = 20

#: Lockout after 3 failures for 30 s; 10 attempts per code so the per-code cap stays out of the way.
LOCKOUT = {"OTP_LOCKOUT_AFTER": "3", "OTP_LOCKOUT_SECONDS": "30", "OTP_MAX_ATTEMPTS": "10"}


@pytest.fixture
def make(make_accounts: Callable[..., Services]) -> Callable[..., Services]:
    """`make_accounts` with relaxed limits, overridable per test."""

    def build(**env: str) -> Services:
        return make_accounts(**{**RELAXED, **env})

    return build


@pytest.fixture
def accounts(make: Callable[..., Services]) -> Services:
    """An account service with relaxed limits and the default lockout."""
    return make()


# Helpers


def sign_up(accounts: Services, sandbox, name: str = "alice", e164: str = PHONE_A, email=None) -> int:
    """Sign up and verify the phone; returns the user id."""
    result = accounts.signups.signup(name, email, PASSWORD, e164, "US", "sms", IP)
    assert result.user_id is not None
    assert accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(e164), IP
    )
    return result.user_id


def enable_2fa(accounts: Services, sandbox, user_id: int, e164: str = PHONE_A) -> None:
    started = accounts.account_changes.start_enable_2fa(user_id, "sms", IP)
    accounts.account_changes.finish_enable_2fa(user_id, started.verification_id, sandbox.code_for(e164), IP)


def user_with_2fa(accounts: Services, sandbox, name: str = "alice", e164: str = PHONE_A) -> int:
    user_id = sign_up(accounts, sandbox, name, e164)
    enable_2fa(accounts, sandbox, user_id, e164)
    return user_id


def backup_codes(accounts: Services, sandbox, user_id: int, e164: str = PHONE_A) -> list[str]:
    """A new set of backup codes: the password, then the code sent to the phone."""
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)
    return accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, sandbox.code_for(e164), IP
    )


def confirm_current_phone(accounts: Services, sandbox, user_id: int, e164: str = PHONE_A) -> None:
    """The first steps of a phone change with 2FA: the password, then the code to the current phone."""
    started = accounts.account_changes.start_confirm_phone_change(user_id, PASSWORD, "sms", IP)
    accounts.account_changes.confirm_phone_change(
        user_id, started.verification_id, sandbox.code_for(e164), IP
    )


def log_in_to_code_step(accounts: Services, name: str = "alice", ip: str = IP) -> LoginResult:
    """Password accepted; the second factor is pending."""
    result = accounts.logins.login(name, PASSWORD, ip, None)
    assert result.user_id is None and result.pending_token
    return result


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def user_row(db_url: str, user_id: int) -> User:
    with db_session(db_url) as db:
        user = db.get(User, user_id)
    assert user is not None
    return user


def count(db_url: str, model: type) -> int:
    with db_session(db_url) as db:
        return db.exec(select(func.count()).select_from(model)).one()[0]


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def locked_for(db_url: str, user_id: int, clock) -> float:
    """Seconds the account's SMS factor stays locked (0 if not locked)."""
    until = aware(user_row(db_url, user_id).locked_until)
    return max(0.0, (until - clock.now()).total_seconds()) if until else 0.0


def outbox(sandbox, e164: str) -> int:
    return len(sandbox.store.messages(e164))


# Sign-up


def test_signup_creates_an_unverified_user_with_the_phone_stored(accounts, sandbox, db_url):
    result = accounts.signups.signup(" Alice ", "Alice@Example.com", PASSWORD, TYPED_A, "US", "sms", IP)

    assert isinstance(result, SignupResult) and result.user_id is not None
    assert result.started.e164 == PHONE_A
    user = user_row(db_url, result.user_id)
    assert (user.username, user.email) == ("alice", "alice@example.com")
    assert user.phone_number == PHONE_A
    assert user.is_phone_verified is False and user.two_factor_enabled is False
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert [m.channel for m in sandbox.store.messages(PHONE_A)] == ["sms"]


def test_only_the_right_signup_code_verifies_the_phone(accounts, sandbox, db_url):
    result = accounts.signups.signup("alice", None, PASSWORD, TYPED_A, "US", "sms", IP)
    code = sandbox.code_for(PHONE_A)

    with pytest.raises(CodeRejected):
        accounts.signups.finish_signup(result.user_id, result.started.verification_id, wrong(code), IP)
    assert user_row(db_url, result.user_id).is_phone_verified is False
    with pytest.raises(VerificationExpired):  # another user's id cannot finish it
        accounts.signups.finish_signup(result.user_id + 1, result.started.verification_id, code, IP)
    assert user_row(db_url, result.user_id).is_phone_verified is False

    assert accounts.signups.finish_signup(result.user_id, result.started.verification_id, code, IP) is True
    assert user_row(db_url, result.user_id).is_phone_verified is True
    assert accounts.account_changes.view(result.user_id).masked_phone == "+1 ******2671"
    with pytest.raises(VerificationExpired):
        accounts.signups.finish_signup(result.user_id, result.started.verification_id, code, IP)


@pytest.mark.parametrize(
    ("field", "value", "error", "words"),
    [
        ("username", "a!", InvalidInput, "Choose a username of 3-32"),
        ("username", "", InvalidInput, "Choose a username of 3-32"),
        ("email", "not-an-email", InvalidInput, "valid email address"),
        ("password", "too short", InvalidInput, "at least 15 characters"),
        ("password", "alice alice alice alice", InvalidInput, "username"),
        ("password", "aaaaaaaaaaaaaaaaaaaa", InvalidInput, "too easy to guess"),
        ("phone", "12", InvalidPhone, "phone number"),
        ("phone", "+44 20 7946 0958", InvalidPhone, "landline"),
    ],
)
def test_bad_signup_input_gets_a_clear_message_and_creates_nothing(
    accounts, sandbox, db_url, field, value, error, words
):
    fields = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, "phone": TYPED_A}
    fields[field] = value

    with pytest.raises(error) as refused:
        accounts.signups.signup(
            fields["username"], fields["email"], fields["password"], fields["phone"], "US", "sms", IP
        )

    assert words in refused.value.user_message()
    assert count(db_url, User) == 0
    assert sandbox.store.messages() == []


@pytest.mark.parametrize(
    ("username", "email"),
    [("ALICE", None), ("  Alice", "other@example.com"), ("bob", "ALICE@EXAMPLE.COM")],
    ids=["username-upper-case", "username-padded", "email-any-case"],
)
def test_a_taken_username_or_email_looks_like_a_fresh_signup(accounts, sandbox, db_url, username, email):
    alice = accounts.signups.signup("alice", "alice@example.com", PASSWORD, PHONE_A, "US", "sms", IP)
    fresh = accounts.signups.signup("carol", None, PASSWORD, PHONE_C, "US", "sms", IP)

    taken = accounts.signups.signup(username, email, PASSWORD, PHONE_B, "US", "sms", IP)

    assert type(taken) is type(fresh) and type(taken.started) is type(fresh.started)
    assert taken.user_id is None
    assert (taken.started.masked, taken.started.channel) == ("+1******2672", "sms")
    assert (taken.started.expires_in, taken.started.resend_after) == (
        fresh.started.expires_in,
        fresh.started.resend_after,
    )
    code = sandbox.code_for(PHONE_B)  # a code really went out, as for a new account
    assert accounts.signups.finish_signup(None, taken.started.verification_id, code, IP) is False
    assert count(db_url, User) == 2
    owner = user_row(db_url, alice.user_id)
    assert (owner.phone_number, owner.is_phone_verified) == (PHONE_A, False)


def test_an_unverified_account_can_finish_verification_later(accounts, sandbox, clock, db_url):
    result = accounts.signups.signup("alice", None, PASSWORD, TYPED_A, "US", "sms", IP)
    first_code = sandbox.code_for(PHONE_A)
    clock.advance(301)  # the first code has expired
    with pytest.raises(VerificationExpired):
        accounts.signups.finish_signup(result.user_id, result.started.verification_id, first_code, IP)

    user_id = accounts.logins.login("alice", PASSWORD, IP, None).user_id  # no 2FA yet: the password suffices
    assert user_id == result.user_id
    started = accounts.signups.start_phone_verification(user_id, "sms", IP)
    assert started.e164 == PHONE_A
    assert (
        accounts.signups.finish_signup(user_id, started.verification_id, sandbox.code_for(PHONE_A), IP)
        is True
    )
    assert user_row(db_url, user_id).is_phone_verified is True
    with pytest.raises(InvalidInput, match="already verified"):
        accounts.signups.start_phone_verification(user_id, "sms", IP)


def test_a_signup_whose_code_could_not_be_sent_can_be_verified_later(make, sandbox, db_url):
    strict = make(RATE_LIMIT_SEND_PER_NUMBER="1/hour")
    strict.signups.signup("carol", None, PASSWORD, PHONE_A, "US", "sms", IP)  # uses the number's only send
    with pytest.raises(RateLimited):
        strict.signups.signup("alice", None, PASSWORD, PHONE_A, "US", "sms", IP)

    later = make()  # the hour has passed
    user_id = later.logins.login("alice", PASSWORD, IP, None).user_id
    assert user_id is not None
    started = later.signups.start_phone_verification(user_id, "sms", IP)
    assert started.e164 == PHONE_A


# Login: the password step


def test_unknown_user_and_wrong_password_get_the_same_answer(accounts, sandbox):
    sign_up(accounts, sandbox)

    with pytest.raises(InvalidCredentials) as unknown:
        accounts.logins.login("mallory", PASSWORD, IP, None)
    with pytest.raises(InvalidCredentials) as wrong_password:
        accounts.logins.login("alice", PASSWORD + "!", IP, None)

    assert unknown.value.user_message() == wrong_password.value.user_message()
    assert unknown.value.user_message() == "Incorrect username or password."
    assert unknown.value.args == wrong_password.value.args
    assert unknown.value.status == wrong_password.value.status == 401


def test_unknown_user_and_wrong_password_take_about_as_long(accounts, sandbox):
    sign_up(accounts, sandbox)

    def timed(name: str, password: str) -> float:
        began = time.perf_counter()
        with pytest.raises(InvalidCredentials):
            accounts.logins.login(name, password, IP, None)
        return time.perf_counter() - began

    timed("mallory", PASSWORD), timed("alice", "wrong " + PASSWORD)  # warm up (the dummy hash is made once)
    unknown = statistics.median(timed(f"mallory{i}", PASSWORD) for i in range(5))
    known = statistics.median(timed("alice", f"wrong {i} {PASSWORD}") for i in range(5))

    assert unknown > 0.01 and known > 0.01  # both paths run a real Argon2 verification
    assert 1 / 3 < unknown / known < 3


def test_without_2fa_the_password_alone_logs_in(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox, email="alice@example.com")
    before = outbox(sandbox, PHONE_A)

    for identifier in ("alice", " ALICE ", "Alice@Example.com"):
        result = accounts.logins.login(identifier, PASSWORD, IP, None)
        assert (result.user_id, result.pending_token) == (user_id, None)
    assert outbox(sandbox, PHONE_A) == before  # no code was sent


def test_with_2fa_the_password_only_gives_a_pending_login_that_grants_nothing(accounts, sandbox, db_url):
    user_with_2fa(accounts, sandbox)
    before = outbox(sandbox, PHONE_A)

    result = accounts.logins.login("alice", PASSWORD, IP, None)

    assert result.user_id is None and result.pending_token
    assert result.masked_phone == "+1 ******2671"
    assert result.started is not None and result.send_error is None
    assert outbox(sandbox, PHONE_A) == before + 1
    assert PHONE_A not in result.masked_phone
    assert accounts.sessions.authenticate(result.pending_token) is None
    assert accounts.sessions.redeem_ticket(result.pending_token, IP, "test") is None
    assert count(db_url, AuthSession) == 0


def test_only_the_right_code_finishes_the_login_and_only_once(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)

    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    with pytest.raises(VerificationExpired):
        accounts.logins.login_with_code("not-a-pending-token-" + "x" * 30, code, IP)
    assert accounts.logins.login_with_code(result.pending_token, code, IP) == user_id
    with pytest.raises(VerificationExpired):
        accounts.logins.login_with_code(result.pending_token, code, IP)
    with pytest.raises(VerificationExpired):
        accounts.logins.login_resend(result.pending_token, "sms", IP)
    assert user_row(db_url, user_id).failed_otp_count == 0  # success reset the wrong guess


def test_a_pending_login_expires_after_pending_login_minutes(make, sandbox, clock):
    accounts = make(PENDING_LOGIN_MINUTES="1")
    user_id = user_with_2fa(accounts, sandbox)

    in_time = log_in_to_code_step(accounts)
    clock.advance(55)
    assert accounts.logins.login_with_code(in_time.pending_token, sandbox.code_for(PHONE_A), IP) == user_id

    late = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)
    clock.advance(61)  # the code itself lives 300 s; the pending login only 60 s
    with pytest.raises(VerificationExpired):
        accounts.logins.login_with_code(late.pending_token, code, IP)
    with pytest.raises(VerificationExpired):
        accounts.logins.login_resend(late.pending_token, "voice", IP)


def test_a_code_sent_for_another_purpose_cannot_complete_the_login(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    signup_code = sandbox.code_for(PHONE_A)
    started = accounts.account_changes.start_enable_2fa(user_id, "sms", IP)
    enable_code = sandbox.code_for(PHONE_A)
    accounts.account_changes.finish_enable_2fa(user_id, started.verification_id, enable_code, IP)
    confirm_current_phone(accounts, sandbox, user_id)
    change = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    change_code = sandbox.code_for(PHONE_B)  # live, unused, for this user

    result = log_in_to_code_step(accounts)
    login_code = sandbox.code_for(PHONE_A)
    for other in {signup_code, enable_code, change_code} - {login_code}:
        with pytest.raises(CodeRejected):
            accounts.logins.login_with_code(result.pending_token, other, IP)

    user = user_row(db_url, user_id)
    # The server-side record decides the purpose: a verification started for
    # another purpose is unknown to a check for this one.
    with pytest.raises(VerificationExpired):
        accounts.lockout.check_code(user, change.verification_id, change_code, IP, "login")
    with pytest.raises(VerificationExpired):
        accounts.lockout.check_code(user, result.started.verification_id, login_code, IP, "change-phone")

    assert accounts.logins.login_with_code(result.pending_token, login_code, IP) == user_id


def test_one_users_code_cannot_complete_another_users_login(accounts, sandbox, db_url):
    alice = user_with_2fa(accounts, sandbox, "alice", PHONE_A)
    bob = user_with_2fa(accounts, sandbox, "bob", PHONE_B)
    alice_login = log_in_to_code_step(accounts, "alice")
    bob_login = log_in_to_code_step(accounts, "bob")
    alice_code, bob_code = sandbox.code_for(PHONE_A), sandbox.code_for(PHONE_B)
    assert alice_code != bob_code

    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(bob_login.pending_token, alice_code, IP)
    with pytest.raises(VerificationExpired):  # Alice's verification is not Bob's
        accounts.lockout.check_code(
            user_row(db_url, bob), alice_login.started.verification_id, alice_code, IP, "login"
        )

    assert accounts.logins.login_with_code(bob_login.pending_token, bob_code, IP) == bob
    assert accounts.logins.login_with_code(alice_login.pending_token, alice_code, IP) == alice


def test_login_resend_delivers_the_same_code_again_and_by_voice(accounts, sandbox, clock):
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)

    with pytest.raises(RateLimited):  # the resend countdown
        accounts.logins.login_resend(result.pending_token, "sms", IP)
    clock.advance(31)
    again = accounts.logins.login_resend(result.pending_token, "voice", IP)

    assert again.channel == "voice"
    newest = sandbox.store.messages(PHONE_A)[0]
    assert (newest.channel, newest.code) == ("voice", code)
    assert accounts.logins.login_with_code(result.pending_token, code, IP) == user_id


def test_after_an_expired_login_code_a_resend_sends_a_fresh_code_that_finishes_the_login(accounts, sandbox):
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    old = sandbox.code_for(PHONE_A)
    sandbox.store.expire(PHONE_A.lstrip("+"))  # the SDK names the recipient without its +
    with pytest.raises(VerificationExpired):
        accounts.logins.login_with_code(result.pending_token, old, IP)

    fresh = accounts.logins.login_resend(result.pending_token, "sms", IP)  # no cooldown of the dead code

    assert fresh.verification_id != result.started.verification_id
    assert accounts.logins.login_with_code(result.pending_token, sandbox.code_for(PHONE_A), IP) == user_id


def test_after_too_many_wrong_login_codes_a_new_code_waits_until_the_burnt_one_expires(make, sandbox, clock):
    accounts = make(OTP_MAX_ATTEMPTS="2")
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    with pytest.raises(TooManyAttempts) as burnt:
        accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    assert 290 <= burnt.value.retry_after <= 300  # the code's 5 minutes, said exactly
    with pytest.raises(RateLimited) as held:
        accounts.logins.login_resend(result.pending_token, "sms", IP)
    assert held.value.scope == "verification-locked" and outbox(sandbox, PHONE_A) == 3

    clock.advance(301)
    accounts.logins.login_resend(result.pending_token, "sms", IP)
    assert accounts.logins.login_with_code(result.pending_token, sandbox.code_for(PHONE_A), IP) == user_id


def test_a_signup_can_send_its_code_to_another_number_until_the_phone_is_verified(accounts, sandbox, db_url):
    result = accounts.signups.signup("alice", None, PASSWORD, PHONE_A, "US", "sms", IP)
    assert result.user_id is not None
    fixed = accounts.signups.change_signup_phone(result.user_id, PHONE_B, "US", "sms", IP)
    assert user_row(db_url, result.user_id).phone_number == PHONE_B
    assert accounts.signups.finish_signup(
        result.user_id, fixed.verification_id, sandbox.code_for(PHONE_B), IP
    )
    assert user_row(db_url, result.user_id).is_phone_verified

    with pytest.raises(InvalidInput):  # a verified phone is changed only with the password and a code
        accounts.signups.change_signup_phone(result.user_id, PHONE_C, "US", "sms", IP)
    assert user_row(db_url, result.user_id).phone_number == PHONE_B and outbox(sandbox, PHONE_C) == 0


def test_when_the_login_code_cannot_be_sent_a_backup_code_still_finishes(make, sandbox):
    accounts = make()
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    strict = make(RATE_LIMIT_SEND_PER_ACCOUNT="1/hour")
    log_in_to_code_step(strict)  # uses the account's only send this hour
    before = outbox(sandbox, PHONE_A)

    result = strict.logins.login("alice", PASSWORD, IP, None)

    assert result.user_id is None and result.pending_token
    assert isinstance(result.send_error, RateLimited) and result.started is None
    assert result.masked_phone == "+1 ******2671"
    assert outbox(sandbox, PHONE_A) == before
    with pytest.raises(VerificationExpired):
        strict.logins.login_with_code(result.pending_token, sandbox.code_for(PHONE_A), IP)
    with pytest.raises(RateLimited):
        strict.logins.login_resend(result.pending_token, "sms", IP)
    assert strict.logins.login_with_backup_code(result.pending_token, codes[0], IP) == user_id

    unsent = strict.logins.login("alice", PASSWORD, IP, None)
    assert isinstance(unsent.send_error, RateLimited)
    later = make()  # the send limit has passed: "resend" sends the first code of this login
    started = later.logins.login_resend(unsent.pending_token, "sms", IP)
    assert started.e164 == PHONE_A
    assert later.logins.login_with_code(unsent.pending_token, sandbox.code_for(PHONE_A), IP) == user_id


def test_password_attempts_are_limited_per_account_counting_unknown_names(make, sandbox):
    sign_up(make(), sandbox)
    limited = make(RATE_LIMIT_LOGIN_PER_ACCOUNT="3/minute")

    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            limited.logins.login("ALICE", "wrong " + PASSWORD, IP, None)
    with pytest.raises(RateLimited) as held:  # even the right password, from another address
        limited.logins.login("alice", PASSWORD, OTHER_IP, None)
    assert held.value.retry_after > 0 and "wait" in held.value.user_message()

    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            limited.logins.login("nobody", PASSWORD, IP, None)
    with pytest.raises(RateLimited):
        limited.logins.login("nobody", PASSWORD, IP, None)


def test_password_attempts_are_limited_per_address(make, sandbox):
    sign_up(make(), sandbox)
    limited = make(RATE_LIMIT_LOGIN_PER_IP="3/minute")

    for name in ("nobody", "somebody", "alice"):
        with pytest.raises(InvalidCredentials):
            limited.logins.login(name, "wrong " + PASSWORD, IP, None)
    with pytest.raises(RateLimited):
        limited.logins.login("alice", PASSWORD, IP, None)
    assert limited.logins.login("alice", PASSWORD, OTHER_IP, None).user_id is not None


def test_the_password_limit_counts_each_name_as_typed_so_it_links_no_email_to_its_account(make, sandbox):
    sign_up(make(), sandbox, email="alice@example.com")
    limited = make(RATE_LIMIT_LOGIN_PER_ACCOUNT="3/minute")

    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            limited.logins.login("alice", "wrong " + PASSWORD, IP, None)
    with pytest.raises(RateLimited):
        limited.logins.login("Alice ", "wrong " + PASSWORD, IP, None)  # normalised: the same name
    for name in ("alice@example.com", "nobody@example.com"):  # alike: neither is tied to "alice"
        with pytest.raises(InvalidCredentials):
            limited.logins.login(name, "wrong " + PASSWORD, IP, None)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            limited.logins.login("alice@example.com", "wrong " + PASSWORD, IP, None)
    with pytest.raises(RateLimited):  # the email has its own budget, no larger: twice per account at most
        limited.logins.login("alice@example.com", PASSWORD, IP, None)


def test_sign_ups_naming_an_account_do_not_use_up_its_password_attempts(make, sandbox):
    sign_up(make(), sandbox)
    limited = make(RATE_LIMIT_LOGIN_PER_ACCOUNT="3/minute")
    for index in range(4):
        limited.signups.signup(
            "alice", None, PASSWORD, f"+1415555{2680 + index}", "US", "sms", f"198.51.100.{index}"
        )
    assert limited.logins.login("alice", PASSWORD, IP, None).user_id is not None


# Failure counter and lockout


def test_wrong_codes_across_logins_and_resends_lock_with_a_doubling_delay(make, sandbox, clock, db_url):
    accounts = make(**LOCKOUT)
    user_id = user_with_2fa(accounts, sandbox)

    first = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(first.pending_token, wrong(code), IP)
    assert user_row(db_url, user_id).failed_otp_count == 1

    clock.advance(31)
    accounts.logins.login_resend(first.pending_token, "sms", IP)  # a resend does not reset the counter
    assert user_row(db_url, user_id).failed_otp_count == 1
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(first.pending_token, wrong(code), IP)
    assert user_row(db_url, user_id).failed_otp_count == 2
    assert locked_for(db_url, user_id, clock) == 0

    second = log_in_to_code_step(accounts)  # a new login and code do not reset it either
    assert user_row(db_url, user_id).failed_otp_count == 2
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(second.pending_token, wrong(sandbox.code_for(PHONE_A)), IP)
    assert user_row(db_url, user_id).failed_otp_count == 3
    assert 25 < locked_for(db_url, user_id, clock) <= 30

    clock.advance(31)
    third = log_in_to_code_step(accounts)
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(third.pending_token, wrong(sandbox.code_for(PHONE_A)), IP)
    assert user_row(db_url, user_id).failed_otp_count == 4
    assert 55 < locked_for(db_url, user_id, clock) <= 60


def test_while_locked_the_right_code_is_answered_like_a_wrong_one(make, sandbox, clock, db_url):
    accounts = make(**LOCKOUT)
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)
    for _ in range(3):
        with pytest.raises(CodeRejected):
            accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    locked = user_row(db_url, user_id)
    assert locked.failed_otp_count == 3 and locked.locked_until is not None

    with pytest.raises(OtpError) as wrong_answer:
        accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    with pytest.raises(OtpError) as right_answer:
        accounts.logins.login_with_code(result.pending_token, code, IP)

    assert type(right_answer.value) is type(wrong_answer.value) is CodeRejected
    # Each guess uses one of the code's attempts, so the count goes down by one, as for a wrong code.
    assert right_answer.value.attempts_left == wrong_answer.value.attempts_left - 1
    expected = wrong_answer.value.user_message().replace(
        f"{wrong_answer.value.attempts_left} attempts", f"{right_answer.value.attempts_left} attempts"
    )
    assert right_answer.value.user_message() == expected
    after = user_row(db_url, user_id)
    assert after.failed_otp_count == 3  # BF-05: guesses during the lockout do not count
    assert aware(after.locked_until) == aware(locked.locked_until)  # nor extend or lift it


def test_after_the_lockout_the_right_code_works_and_resets_the_counter(make, sandbox, clock, db_url):
    accounts = make(**LOCKOUT)
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)
    for _ in range(3):
        with pytest.raises(CodeRejected):
            accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(result.pending_token, code, IP)

    clock.advance(31)
    assert accounts.logins.login_with_code(result.pending_token, code, IP) == user_id
    after = user_row(db_url, user_id)
    assert after.failed_otp_count == 0 and after.locked_until is None


@pytest.mark.parametrize("flow", ["disable-2fa", "change-phone"])
def test_account_changes_share_the_login_failure_counter(make, sandbox, clock, db_url, flow):
    accounts = make(**LOCKOUT)
    user_id = user_with_2fa(accounts, sandbox)
    if flow == "change-phone":  # with 2FA on, the current phone confirms the change first
        confirm_current_phone(accounts, sandbox, user_id)
    login = log_in_to_code_step(accounts)
    with pytest.raises(CodeRejected):
        accounts.logins.login_with_code(login.pending_token, wrong(sandbox.code_for(PHONE_A)), IP)

    if flow == "disable-2fa":
        started = accounts.account_changes.start_disable_2fa(user_id, PASSWORD, "sms", IP)
        code = sandbox.code_for(PHONE_A)

        def finish(guess: str) -> object:
            return accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, guess, IP)

    else:
        started = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
        code = sandbox.code_for(PHONE_B)

        def finish(guess: str) -> object:
            return accounts.account_changes.finish_change_phone(user_id, started.verification_id, guess, IP)

    for expected in (2, 3):
        with pytest.raises(CodeRejected):
            finish(wrong(code))
        assert user_row(db_url, user_id).failed_otp_count == expected
    assert locked_for(db_url, user_id, clock) > 25

    with pytest.raises(CodeRejected):  # locked: the right code changes nothing
        finish(code)
    unchanged = user_row(db_url, user_id)
    assert (unchanged.two_factor_enabled, unchanged.phone_number) == (True, PHONE_A)
    assert unchanged.failed_otp_count == 3

    clock.advance(31)
    finish(code)
    done = user_row(db_url, user_id)
    assert done.failed_otp_count == 0 and done.locked_until is None
    if flow == "disable-2fa":
        assert done.two_factor_enabled is False
    else:
        assert done.phone_number == PHONE_B


def test_wrong_backup_codes_count_toward_the_lockout_and_then_each_costs_a_password_step(
    make, sandbox, clock, db_url
):
    accounts = make(**LOCKOUT)
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    result = log_in_to_code_step(accounts)
    with pytest.raises(CodeRejected):  # one wrong SMS code ...
        accounts.logins.login_with_code(result.pending_token, wrong(sandbox.code_for(PHONE_A)), IP)

    for expected in (2, 3):  # ... and two wrong backup codes lock the SMS factor
        with pytest.raises(BackupCodeRejected):
            accounts.logins.login_with_backup_code(result.pending_token, "AAAA-AAAA-AAAA-AAAA", IP)
        assert user_row(db_url, user_id).failed_otp_count == expected
    assert locked_for(db_url, user_id, clock) > 25

    # While locked, a wrong backup code ends the login: the next guess needs the password again.
    with pytest.raises(BackupCodeStartOver) as ended:
        accounts.logins.login_with_backup_code(result.pending_token, "BBBB-BBBB-BBBB-BBBB", IP)
    assert "password" in ended.value.user_message()
    with pytest.raises(LoginExpired):
        accounts.logins.login_with_backup_code(result.pending_token, codes[0], IP)
    assert accounts.backup_codes.left(user_id) == 10
    assert user_row(db_url, user_id).failed_otp_count == 3

    # The right backup code is not refused for the lock, and lifts it.
    again = log_in_to_code_step(accounts)
    assert accounts.logins.login_with_backup_code(again.pending_token, codes[0], IP) == user_id
    after = user_row(db_url, user_id)
    assert (after.failed_otp_count, after.locked_until) == (0, None)
    assert accounts.backup_codes.left(user_id) == 9


# Backup codes


def test_backup_codes_are_ten_distinct_codes_stored_only_hashed(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)

    codes = backup_codes(accounts, sandbox, user_id)

    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code) for code in codes)
    assert accounts.backup_codes.left(user_id) == 10
    with db_session(db_url) as db:
        rows = db.exec(text("SELECT * FROM otp_backup_code")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == count(db_url, BackupCode) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
        assert code.replace("-", "").lower() not in stored


def test_a_backup_code_works_once_in_any_case_and_spacing(accounts, sandbox):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    typed = " " + codes[0].lower().replace("-", " ") + " "

    first = log_in_to_code_step(accounts)
    assert accounts.logins.login_with_backup_code(first.pending_token, typed, IP) == user_id
    assert accounts.backup_codes.left(user_id) == 9
    assert accounts.account_changes.view(user_id).backup_codes_left == 9

    second = log_in_to_code_step(accounts)
    with pytest.raises(BackupCodeRejected):
        accounts.logins.login_with_backup_code(second.pending_token, codes[0], IP)
    with pytest.raises(InvalidInput):
        accounts.logins.login_with_backup_code(second.pending_token, "not a code", IP)
    assert accounts.logins.login_with_backup_code(second.pending_token, codes[1], IP) == user_id
    assert accounts.backup_codes.left(user_id) == 8


def test_regenerating_backup_codes_needs_the_password_and_revokes_the_old_set(accounts, sandbox):
    user_id = user_with_2fa(accounts, sandbox)
    old = backup_codes(accounts, sandbox, user_id)

    with pytest.raises(InvalidCredentials):
        accounts.account_changes.start_backup_codes(user_id, "wrong " + PASSWORD, "sms", IP)
    assert accounts.backup_codes.left(user_id) == 10
    new = backup_codes(accounts, sandbox, user_id)
    assert not set(old) & set(new)
    assert accounts.backup_codes.left(user_id) == 10

    result = log_in_to_code_step(accounts)
    with pytest.raises(BackupCodeRejected):
        accounts.logins.login_with_backup_code(result.pending_token, old[2], IP)
    assert accounts.logins.login_with_backup_code(result.pending_token, new[2], IP) == user_id


# Two-factor login on and off


def test_enabling_2fa_needs_a_verified_phone_and_a_fresh_code(accounts, sandbox, db_url):
    unverified = accounts.signups.signup("bob", None, PASSWORD, PHONE_B, "US", "sms", IP).user_id
    with pytest.raises(InvalidInput, match="Verify your phone"):
        accounts.account_changes.start_enable_2fa(unverified, "sms", IP)

    user_id = sign_up(accounts, sandbox)
    signup_code = sandbox.code_for(PHONE_A)
    started = accounts.account_changes.start_enable_2fa(user_id, "sms", IP)
    code = sandbox.code_for(PHONE_A)
    for guess in {wrong(code), signup_code} - {code}:
        with pytest.raises(CodeRejected):
            accounts.account_changes.finish_enable_2fa(user_id, started.verification_id, guess, IP)
    assert user_row(db_url, user_id).two_factor_enabled is False
    assert accounts.logins.login("alice", PASSWORD, IP, None).user_id == user_id

    accounts.account_changes.finish_enable_2fa(user_id, started.verification_id, code, IP)
    assert accounts.account_changes.view(user_id).two_factor_enabled is True
    assert accounts.logins.login("alice", PASSWORD, IP, None).user_id is None  # now a code is needed
    with pytest.raises(InvalidInput, match="already on"):
        accounts.account_changes.start_enable_2fa(user_id, "sms", IP)


def test_disabling_2fa_needs_the_password_and_a_code(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    before = outbox(sandbox, PHONE_A)

    with pytest.raises(InvalidCredentials):
        accounts.account_changes.start_disable_2fa(user_id, "wrong " + PASSWORD, "sms", IP)
    assert outbox(sandbox, PHONE_A) == before  # no SMS for a wrong password

    started = accounts.account_changes.start_disable_2fa(user_id, PASSWORD, "sms", IP)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(CodeRejected):
        accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, wrong(code), IP)
    assert user_row(db_url, user_id).two_factor_enabled is True

    accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, code, IP)
    assert user_row(db_url, user_id).two_factor_enabled is False
    assert accounts.logins.login("alice", PASSWORD, IP, None).user_id == user_id


def test_switching_2fa_on_or_off_forgets_remembered_devices(accounts, sandbox):
    user_id = sign_up(accounts, sandbox)
    sessions = accounts.sessions
    device = sessions.redeem_ticket(sessions.issue_ticket(user_id, remember_device=True), IP, "Firefox")
    assert device is not None and sessions.device_trusted(user_id, device.device_token)

    enable_2fa(accounts, sandbox, user_id)
    assert not sessions.device_trusted(user_id, device.device_token)
    assert accounts.logins.login("alice", PASSWORD, IP, device.device_token).user_id is None

    device = sessions.redeem_ticket(sessions.issue_ticket(user_id, remember_device=True), IP, "Firefox")
    assert accounts.logins.login("alice", PASSWORD, IP, device.device_token).user_id == user_id
    started = accounts.account_changes.start_disable_2fa(user_id, PASSWORD, "sms", IP)
    accounts.account_changes.finish_disable_2fa(
        user_id, started.verification_id, sandbox.code_for(PHONE_A), IP
    )
    assert not sessions.device_trusted(user_id, device.device_token)
    assert sessions.list_devices(user_id) == []


# Changing the phone


def test_changing_the_phone_needs_the_password_and_a_code_sent_to_the_new_number(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    sessions = accounts.sessions
    device = sessions.redeem_ticket(sessions.issue_ticket(user_id, remember_device=True), IP, "Firefox")

    with pytest.raises(InvalidCredentials):
        accounts.account_changes.start_confirm_phone_change(user_id, "wrong " + PASSWORD, "sms", IP)
    assert outbox(sandbox, PHONE_B) == 0

    confirm_current_phone(accounts, sandbox, user_id)
    started = accounts.account_changes.start_new_phone(user_id, "(415) 555-2672", "US", "sms", IP)
    assert started.e164 == PHONE_B and outbox(sandbox, PHONE_B) == 1
    log_in_to_code_step(accounts)  # a live code on the old number
    old_number_code = sandbox.code_for(PHONE_A)
    new_code = sandbox.code_for(PHONE_B)
    for guess in {old_number_code, wrong(new_code)} - {new_code}:
        with pytest.raises(CodeRejected):
            accounts.account_changes.finish_change_phone(user_id, started.verification_id, guess, IP)
    assert user_row(db_url, user_id).phone_number == PHONE_A  # the old number stays until then

    old_masked = accounts.account_changes.finish_change_phone(user_id, started.verification_id, new_code, IP)

    assert old_masked == "+1 ******2671"
    user = user_row(db_url, user_id)
    assert (user.phone_number, user.is_phone_verified, user.two_factor_enabled) == (PHONE_B, True, True)
    assert not sessions.device_trusted(user_id, device.device_token)
    notice = sandbox.store.messages(PHONE_A)[0]
    assert notice.code == "" and "changed" in notice.text
    assert not re.search(r"\d{6}", notice.text)  # no code in it
    assert "4155552672" not in notice.text.replace(" ", "")  # nor the whole new number
    assert "2672" in notice.text  # but enough to recognise it
    assert log_in_to_code_step(accounts).masked_phone == "+1 ******2672"


# Concurrency


def test_twenty_parallel_right_codes_for_one_pending_login_succeed_once(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    result = log_in_to_code_step(accounts)
    code = sandbox.code_for(PHONE_A)

    outcomes = run_at_once(THREADS, lambda _: accounts.logins.login_with_code(result.pending_token, code, IP))

    assert [o for o in outcomes if not isinstance(o, OtpError)] == [user_id]
    with db_session(db_url) as db:
        done = db.exec(
            select(func.count()).select_from(PendingLogin).where(PendingLogin.completed_at.is_not(None))
        )
        assert done.one()[0] == 1


def test_parallel_right_codes_leave_no_failures_on_the_counter(make, sandbox, db_url):
    # One attempt per code and 40 submissions make most of the losers meet "no attempt left".
    accounts = make(OTP_LOCKOUT_AFTER="3", OTP_MAX_ATTEMPTS="1")
    user_id = user_with_2fa(accounts, sandbox)

    def submit(token: str, code: str) -> list[object]:
        return run_at_once(2 * THREADS, lambda _: accounts.logins.login_with_code(token, code, IP))

    for _ in range(5):  # a race: several rounds so that a lucky clean one cannot hide the bug
        result = log_in_to_code_step(accounts)
        outcomes = submit(result.pending_token, sandbox.code_for(PHONE_A))
        assert [o for o in outcomes if not isinstance(o, OtpError)] == [user_id]
        user = user_row(db_url, user_id)
        assert (user.failed_otp_count, user.locked_until) == (0, None)
