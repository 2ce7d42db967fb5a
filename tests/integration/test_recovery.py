"""A forgotten password: the name, a code to the account's verified phone, a new password.

Service -> real plivo SDK -> sandbox over HTTP -> the test database, as in `test_accounts`.

- The code goes to the verified phone only; the right code then lets a new password be set
  once, within the reset's window; with two-factor login on, only with an unused backup code.
- Afterwards the old password is refused, every session, remembered device and pending login
  of the account has ended, and the number got a notice.
- A name with no account, or with an unverified phone, answers every step as a real one does
  (the same fields, the same attempts left, the same errors) and nobody is texted.
- The limits: the name's and the address's (like a login), the account's lockout on wrong
  codes; a send a number's limit refuses is not told apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import RELAXED
from sqlmodel import select
from test_accounts import (
    IP,
    PASSWORD,
    PHONE_A,
    PHONE_B,
    backup_codes,
    outbox,
    sign_up,
    user_row,
    user_with_2fa,
    wrong,
)

from plivo_otp_app.db import session as db_session
from plivo_otp_app.enums import Purpose
from plivo_otp_app.errors import (
    ChallengeRequired,
    CodeRejected,
    InvalidCredentials,
    InvalidInput,
    LoginExpired,
    NoAttemptsLeft,
    OtpError,
    RateLimited,
    ResetExpired,
    TooManyAttempts,
    VerificationExpired,
)
from plivo_otp_app.models import Verification
from plivo_otp_app.services import BackupCodeRejected, Services, Started
from plivo_otp_app.services.recovery import RESET_MINUTES

NEW_PASSWORD = "a brand new tangerine bicycle hums"


@pytest.fixture
def make(make_accounts: Callable[..., Services]) -> Callable[..., Services]:
    return lambda **env: make_accounts(**{**RELAXED, **env})


@pytest.fixture
def accounts(make: Callable[..., Services]) -> Services:
    return make()


def reset_to_password_step(accounts: Services, sandbox, name: str = "alice", e164: str = PHONE_A) -> str:
    started = accounts.recovery.start(name, IP)
    checked = accounts.recovery.check_code(started.verification_id, sandbox.code_for(e164), IP)
    assert checked.backup_code_required is False
    return started.verification_id


def _no_wait(sentence: str) -> str:
    """A sentence with its wait left out: the two flows started a moment apart."""
    return re.sub(r"(\d+ h )?(\d+ min )?\d+ (s|min|h)\.", "<wait>.", sentence)


def shape(started: Started) -> tuple[object, ...]:
    """What a start tells the caller, its handle aside."""
    return (started.e164, started.masked, started.channel, started.expires_in, started.resend_after)


def test_the_right_code_and_a_new_password_replace_the_old_one(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    started = accounts.recovery.start("alice", IP)

    assert (started.e164, started.masked) == ("", "")  # no number, not even masked
    assert outbox(sandbox, PHONE_A) == 2  # the sign-up's code and the reset's
    checked = accounts.recovery.check_code(started.verification_id, sandbox.code_for(PHONE_A), IP)
    assert checked.backup_code_required is False
    accounts.recovery.complete(started.verification_id, NEW_PASSWORD, None, IP)

    with pytest.raises(InvalidCredentials):
        accounts.logins.login("alice", PASSWORD, IP, None)
    assert accounts.logins.login("alice", NEW_PASSWORD, IP, None).user_id == user_id
    assert "password was changed" in sandbox.store.messages(PHONE_A)[0].text


def test_a_reset_by_email_reaches_the_same_account(accounts, sandbox):
    user_id = sign_up(accounts, sandbox, email="alice@example.com")
    token = reset_to_password_step(accounts, sandbox, "Alice@Example.com")
    accounts.recovery.complete(token, NEW_PASSWORD, None, IP)
    assert accounts.logins.login("alice", NEW_PASSWORD, IP, None).user_id == user_id


def test_a_reset_ends_every_session_remembered_device_and_pending_login(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    session = accounts.sessions.create_session(user_id, IP, "test")
    other = accounts.sessions.create_session(user_id, IP, "test")
    ticket = accounts.sessions.issue_ticket(user_id, True, "http://app/account", "browser")
    device = accounts.sessions.redeem_ticket(ticket, IP, "test", None, "browser")
    assert device is not None and device.device_token
    assert accounts.sessions.device_trusted(user_id, device.device_token)
    pending = accounts.logins.login("alice", PASSWORD, IP, None)
    assert pending.pending_token

    started = accounts.recovery.start("alice", IP)
    checked = accounts.recovery.check_code(started.verification_id, sandbox.code_for(PHONE_A), IP)
    assert checked.backup_code_required is True
    accounts.recovery.complete(started.verification_id, NEW_PASSWORD, codes[0], IP)

    for token in (session, other, device.session_token):
        assert accounts.sessions.authenticate(token) is None
    assert not accounts.sessions.device_trusted(user_id, device.device_token)
    with pytest.raises(LoginExpired):
        accounts.logins.login_with_backup_code(pending.pending_token, codes[1], IP)
    assert accounts.backup_codes.left(user_id) == 9  # the reset used one; the dead login none


def test_with_2fa_the_phone_alone_does_not_reset_the_password(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    before = user_row(db_url, user_id).password_hash
    started = accounts.recovery.start("alice", IP)
    accounts.recovery.check_code(started.verification_id, sandbox.code_for(PHONE_A), IP)

    with pytest.raises(InvalidInput):  # no backup code
        accounts.recovery.complete(started.verification_id, NEW_PASSWORD, None, IP)
    with pytest.raises(BackupCodeRejected):
        accounts.recovery.complete(started.verification_id, NEW_PASSWORD, "AAAA-BBBB-CCCC-DDDD", IP)
    assert user_row(db_url, user_id).password_hash == before
    assert user_row(db_url, user_id).failed_otp_count == 1  # a wrong backup code counts

    accounts.recovery.complete(started.verification_id, NEW_PASSWORD, codes[0], IP)
    assert accounts.logins.login("alice", NEW_PASSWORD, IP, None).pending_token  # 2FA still on


def test_a_reset_completes_once_and_only_after_the_right_code_within_its_window(accounts, sandbox, clock):
    sign_up(accounts, sandbox)
    started = accounts.recovery.start("alice", IP)
    with pytest.raises(ResetExpired):  # no code yet
        accounts.recovery.complete(started.verification_id, NEW_PASSWORD, None, IP)
    with pytest.raises(CodeRejected):
        accounts.recovery.check_code(started.verification_id, wrong(sandbox.code_for(PHONE_A)), IP)
    with pytest.raises(ResetExpired):
        accounts.recovery.complete(started.verification_id, NEW_PASSWORD, None, IP)

    token = reset_to_password_step(accounts, sandbox)
    accounts.recovery.complete(token, NEW_PASSWORD, None, IP)
    with pytest.raises(ResetExpired):
        accounts.recovery.complete(token, "another fresh password for today", None, IP)

    late = reset_to_password_step(accounts, sandbox)
    clock.advance(RESET_MINUTES * 60 + 1)
    with pytest.raises(ResetExpired):
        accounts.recovery.complete(late, "another fresh password for today", None, IP)


def test_the_new_password_follows_the_password_rules_and_a_refusal_keeps_the_reset(accounts, sandbox):
    sign_up(accounts, sandbox)
    token = reset_to_password_step(accounts, sandbox)
    for bad in ("short", "a" * 20, "alice likes long passwords"):
        with pytest.raises(InvalidInput):
            accounts.recovery.complete(token, bad, None, IP)
    accounts.recovery.complete(token, NEW_PASSWORD, None, IP)


def test_a_reset_code_is_good_for_nothing_else(accounts, sandbox):
    sign_up(accounts, sandbox)
    started = accounts.recovery.start("alice", IP)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(VerificationExpired):  # the public check knows no such verification
        accounts.verifications.check(started.verification_id, code, IP)
    with pytest.raises(LoginExpired):  # nor is the handle a pending login
        accounts.logins.login_with_code(started.verification_id, code, IP)


# No account, no verified phone: the same answers, and nobody texted


@pytest.mark.parametrize("unknown", ["nobody", "bob"])
def test_a_name_without_a_verified_phone_gets_the_same_answers_and_no_text(accounts, sandbox, unknown):
    sign_up(accounts, sandbox)
    accounts.signups.signup("bob", None, PASSWORD, PHONE_B, "US", "sms", IP)  # phone never verified
    texts = len(sandbox.store.messages())

    known, other = accounts.recovery.start("alice", IP), accounts.recovery.start(unknown, IP)
    assert shape(known) == shape(other)
    assert len(other.verification_id) == len(known.verification_id)
    assert len(sandbox.store.messages()) == texts + 1  # alice's code only

    code = sandbox.code_for(PHONE_A)
    answers = []
    for token in (known.verification_id, other.verification_id):
        seen = []
        for _ in range(5):
            try:
                accounts.recovery.check_code(token, wrong(code), IP)
            except OtpError as exc:
                seen.append((type(exc), _no_wait(exc.user_message())))
        try:
            accounts.recovery.check_code(token, code, IP)  # dead now, even the right one
        except OtpError as exc:
            seen.append((type(exc), _no_wait(exc.user_message())))
        for step in (
            lambda t=token: accounts.recovery.resend(t, "sms", IP),
            lambda t=token: accounts.recovery.complete(t, NEW_PASSWORD, None, IP),
        ):
            try:
                step()
            except OtpError as exc:
                seen.append((type(exc), _no_wait(exc.user_message())))
        answers.append(seen)
    assert answers[0] == answers[1]
    assert [kind for kind, _ in answers[0]][:6] == [CodeRejected] * 4 + [TooManyAttempts, NoAttemptsLeft]
    assert len(sandbox.store.messages()) == texts + 1


def test_a_fresh_reset_replaces_the_earlier_one_for_known_and_unknown_names_alike(accounts, sandbox):
    sign_up(accounts, sandbox)
    answers = []
    for name in ("alice", "nobody"):
        first = accounts.recovery.start(name, IP)
        accounts.recovery.start(name, IP)
        with pytest.raises(OtpError) as caught:
            accounts.recovery.check_code(first.verification_id, "123456", IP)
        answers.append(type(caught.value))
    assert answers[0] == answers[1] == VerificationExpired


def test_an_unknown_handle_is_an_expired_reset(accounts):
    for token in ("", "x" * 36, None, 7, "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(ResetExpired):
            accounts.recovery.resend(token, "sms", IP)
        with pytest.raises(ResetExpired):
            accounts.recovery.complete(token, NEW_PASSWORD, None, IP)


# Limits


def test_starts_are_limited_per_name_known_or_not(make, sandbox):
    accounts = make(RATE_LIMIT_LOGIN_PER_ACCOUNT="2/hour")
    sign_up(accounts, sandbox)
    for name in ("alice", "nobody"):
        accounts.recovery.start(name, IP)
        accounts.recovery.start(name, IP)
        with pytest.raises(RateLimited) as caught:
            accounts.recovery.start(name, IP)
        assert caught.value.scope == "login-account"


def test_a_send_a_number_limit_refuses_looks_like_any_other_start(make, sandbox, db_url):
    accounts = make(RATE_LIMIT_SEND_PER_NUMBER="2/hour")
    sign_up(accounts, sandbox)  # the sign-up's code is the number's first
    accounts.recovery.start("alice", IP)
    texts = outbox(sandbox, PHONE_A)
    refused = accounts.recovery.start("alice", IP)  # the number's limit is used up: no text
    unknown = accounts.recovery.start("nobody", IP)
    assert shape(refused) == shape(unknown)
    assert outbox(sandbox, PHONE_A) == texts


def test_a_reset_is_never_held_for_a_challenge_that_its_page_could_not_show(make, sandbox, clock):
    """A busy address's sends need the proof of work, but a reset's code goes to the account's
    own verified phone, and a held reset would look like a decoy: it would silently send nothing."""
    accounts = make(PUMPING_ADDRESS_SENDS="1")  # one first code from an address, then a challenge
    sign_up(accounts, sandbox)  # the address's first code
    with pytest.raises(ChallengeRequired):  # the rule holds the address's other sends
        accounts.verifications.start(PHONE_B, "US", "sms", IP)
    texts = outbox(sandbox, PHONE_A)
    started = accounts.recovery.start("alice", IP)
    assert outbox(sandbox, PHONE_A) == texts + 1
    clock.advance(accounts.verifications.settings.otp.resend_cooldown_seconds)
    accounts.recovery.resend(started.verification_id, "sms", IP)
    assert outbox(sandbox, PHONE_A) == texts + 2


def test_wrong_reset_codes_count_on_the_accounts_lockout(make, sandbox, db_url):
    accounts = make(OTP_LOCKOUT_AFTER="3", OTP_LOCKOUT_SECONDS="30", OTP_MAX_ATTEMPTS="10")
    user_id = sign_up(accounts, sandbox)
    started = accounts.recovery.start("alice", IP)
    code = sandbox.code_for(PHONE_A)
    for _ in range(3):
        with pytest.raises(CodeRejected):
            accounts.recovery.check_code(started.verification_id, wrong(code), IP)
    assert user_row(db_url, user_id).locked_until is not None
    with pytest.raises(CodeRejected):  # locked: the right code gets the wrong one's answer
        accounts.recovery.check_code(started.verification_id, code, IP)
    with db_session(db_url) as db:
        row = db.exec(select(Verification).where(Verification.id == started.verification_id)).one()
    assert (row.purpose, row.status) == (Purpose.RESET_PASSWORD, "pending")
