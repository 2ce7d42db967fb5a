"""Replacing a factor, getting back in, and changes that commit whole or not at all.

Service -> real plivo SDK -> sandbox over HTTP -> the test database, as in `test_accounts`.

- The phone of an account with 2FA is replaced only after its current factor (a code
  to the current phone, or a backup code); the password and the new number's code
  alone no longer do it.
- New backup codes need the current factor too (a code to the verified phone, or an
  unused backup code), never the password alone.
- After 100 second-factor failures (the SMS factor disabled) and during a temporary
  lock, a right unused backup code still signs in, and the SMS factor works again.
- Each change is one unit of work: with a later step failing for real (its table is
  gone), nothing is committed: the backup code stays unused, the code can be entered
  again, the phone and 2FA stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import RELAXED
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from test_accounts import (
    IP,
    PASSWORD,
    PHONE_A,
    PHONE_B,
    backup_codes,
    confirm_current_phone,
    log_in_to_code_step,
    outbox,
    sign_up,
    user_row,
    user_with_2fa,
    wrong,
)

from plivo_otp_app.db import engine_for
from plivo_otp_app.errors import (
    CodeRejected,
    FactorNotConfirmed,
    InvalidInput,
    OtpError,
    TooManyAttempts,
    VerificationExpired,
)
from plivo_otp_app.services import BackupCodeRejected, Services
from plivo_otp_app.services.lockout import SMS_FACTOR_DISABLED_AFTER


@pytest.fixture
def make(make_accounts: Callable[..., Services]) -> Callable[..., Services]:
    """`make_accounts` with relaxed limits, overridable per test."""
    return lambda **env: make_accounts(**{**RELAXED, **env})


@pytest.fixture
def accounts(make: Callable[..., Services]) -> Services:
    """An account service with relaxed limits and the default lockout."""
    return make()


@contextmanager
def table_gone(db_url: str, table: str) -> Iterator[None]:
    """A real fault: `table` is renamed away for the block, so every statement on it fails."""
    with engine_for(db_url).begin() as connection:
        connection.execute(text(f'ALTER TABLE "{table}" RENAME TO "{table}_away"'))
    try:
        yield
    finally:
        with engine_for(db_url).begin() as connection:
            connection.execute(text(f'ALTER TABLE "{table}_away" RENAME TO "{table}"'))


# Replacing the phone


def test_password_and_new_number_code_no_longer_change_the_phone_of_a_2fa_account(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)

    with pytest.raises(FactorNotConfirmed):  # the old path: password and the new number
        accounts.account_changes.start_change_phone(user_id, PASSWORD, PHONE_B, "US", "sms", IP)
    with pytest.raises(FactorNotConfirmed):  # the new number's step, without the current factor
        accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    assert outbox(sandbox, PHONE_B) == 0
    started = accounts.account_changes.start_confirm_phone_change(user_id, PASSWORD, "sms", IP)
    assert started.e164 == PHONE_A  # the code goes to the current phone
    with pytest.raises(CodeRejected):
        accounts.account_changes.confirm_phone_change(
            user_id, started.verification_id, wrong(sandbox.code_for(PHONE_A)), IP
        )
    with pytest.raises(FactorNotConfirmed):
        accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    assert outbox(sandbox, PHONE_B) == 0
    assert user_row(db_url, user_id).phone_number == PHONE_A


def test_a_phone_change_with_2fa_asks_the_current_phone_then_the_new_one_and_notifies_the_old(
    accounts, sandbox, db_url
):
    user_id = user_with_2fa(accounts, sandbox)
    confirm_current_phone(accounts, sandbox, user_id)
    started = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)

    assert accounts.account_changes.finish_change_phone(
        user_id, started.verification_id, sandbox.code_for(PHONE_B), IP
    )
    user = user_row(db_url, user_id)
    assert (user.phone_number, user.is_phone_verified, user.two_factor_enabled) == (PHONE_B, True, True)
    assert "changed" in sandbox.store.messages(PHONE_A)[0].text
    # The confirmation was used up by that change: the next one starts with the current phone again.
    with pytest.raises(FactorNotConfirmed):
        accounts.account_changes.start_new_phone(user_id, PHONE_A, "US", "sms", IP)


def test_one_confirmation_of_the_current_phone_changes_the_number_once(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    confirm_current_phone(accounts, sandbox, user_id)
    first = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    first_code = sandbox.code_for(PHONE_B)
    second = accounts.account_changes.start_new_phone(user_id, "+14155552673", "US", "sms", IP)
    accounts.account_changes.finish_change_phone(
        user_id, second.verification_id, sandbox.code_for("+14155552673"), IP
    )

    with pytest.raises(OtpError):  # no confirmation is left for the other new number
        accounts.account_changes.finish_change_phone(user_id, first.verification_id, first_code, IP)
    assert user_row(db_url, user_id).phone_number == "+14155552673"


def test_a_backup_code_confirms_a_phone_change_when_the_phone_is_lost(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    started = accounts.account_changes.start_confirm_phone_change(user_id, PASSWORD, "sms", IP)

    with pytest.raises(BackupCodeRejected):
        accounts.account_changes.confirm_phone_change(
            user_id, started.verification_id, "AAAA-AAAA-AAAA-AAAA", IP, backup=True
        )
    accounts.account_changes.confirm_phone_change(user_id, started.verification_id, codes[0], IP, backup=True)
    assert accounts.backup_codes.left(user_id) == 9
    with pytest.raises(VerificationExpired):  # the SMS code of that step is closed by the backup code
        accounts.account_changes.confirm_phone_change(
            user_id, started.verification_id, sandbox.code_for(PHONE_A), IP
        )

    new = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    accounts.account_changes.finish_change_phone(user_id, new.verification_id, sandbox.code_for(PHONE_B), IP)
    assert user_row(db_url, user_id).phone_number == PHONE_B


def test_without_2fa_the_password_and_the_new_number_code_still_change_the_phone(accounts, sandbox, db_url):
    user_id = sign_up(accounts, sandbox)
    started = accounts.account_changes.start_change_phone(user_id, PASSWORD, PHONE_B, "US", "sms", IP)
    accounts.account_changes.finish_change_phone(
        user_id, started.verification_id, sandbox.code_for(PHONE_B), IP
    )
    assert user_row(db_url, user_id).phone_number == PHONE_B


# New backup codes


def test_new_backup_codes_need_a_code_to_the_phone_not_the_password_alone(accounts, sandbox):
    user_id = user_with_2fa(accounts, sandbox)
    login = log_in_to_code_step(accounts)  # a live code of another purpose

    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)
    code = sandbox.code_for(PHONE_A)
    with pytest.raises(CodeRejected):
        accounts.account_changes.regenerate_backup_codes(user_id, started.verification_id, wrong(code), IP)
    with pytest.raises(VerificationExpired):  # the login's verification is not this flow's
        accounts.account_changes.regenerate_backup_codes(user_id, login.started.verification_id, code, IP)
    assert accounts.backup_codes.left(user_id) == 0

    codes = accounts.account_changes.regenerate_backup_codes(user_id, started.verification_id, code, IP)
    assert len(codes) == 10 and accounts.backup_codes.left(user_id) == 10


def test_an_unused_backup_code_can_stand_in_for_the_phone_when_making_new_ones(accounts, sandbox):
    user_id = user_with_2fa(accounts, sandbox)
    old = backup_codes(accounts, sandbox, user_id)
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)

    new = accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, old[0], IP, backup=True
    )

    assert accounts.backup_codes.left(user_id) == 10 and not set(old) & set(new)
    login = log_in_to_code_step(accounts)
    with pytest.raises(BackupCodeRejected):
        accounts.logins.login_with_backup_code(login.pending_token, old[1], IP)
    assert accounts.logins.login_with_backup_code(login.pending_token, new[1], IP) == user_id


def test_backup_codes_need_a_verified_phone(accounts, sandbox):
    user_id = accounts.signups.signup("bob", None, PASSWORD, PHONE_B, "US", "sms", IP).user_id
    assert user_id is not None
    with pytest.raises(InvalidInput, match="Verify your phone"):
        accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)


# Getting back in


def test_after_a_hundred_failures_a_backup_code_signs_in_and_the_sms_code_works_again(
    make: Callable[..., Services], sandbox, clock, db_url
):
    accounts = make(OTP_LOCKOUT_SECONDS="1", OTP_LOCKOUT_MAX_SECONDS="1", OTP_MAX_ATTEMPTS="10")
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    for _ in range(SMS_FACTOR_DISABLED_AFTER // 10):
        clock.advance(301)  # the last code and its send lock have expired
        result = log_in_to_code_step(accounts)
        code = sandbox.code_for(PHONE_A)
        for _ in range(10):
            clock.advance(2)  # past the 1 s delay
            with pytest.raises((CodeRejected, TooManyAttempts)):
                accounts.logins.login_with_code(result.pending_token, wrong(code), IP)
    assert user_row(db_url, user_id).failed_otp_count == SMS_FACTOR_DISABLED_AFTER

    clock.advance(3601)
    disabled = log_in_to_code_step(accounts)
    with pytest.raises(CodeRejected):  # the SMS factor is disabled: the right code is refused
        accounts.logins.login_with_code(disabled.pending_token, sandbox.code_for(PHONE_A), IP)

    assert accounts.logins.login_with_backup_code(disabled.pending_token, codes[0], IP) == user_id
    assert user_row(db_url, user_id).failed_otp_count == 0

    clock.advance(301)
    again = log_in_to_code_step(accounts)
    assert accounts.logins.login_with_code(again.pending_token, sandbox.code_for(PHONE_A), IP) == user_id


def test_during_a_temporary_lock_the_right_backup_code_signs_in(make, sandbox, clock, db_url):
    accounts = make(OTP_LOCKOUT_AFTER="3", OTP_LOCKOUT_SECONDS="3600", OTP_MAX_ATTEMPTS="10")
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    result = log_in_to_code_step(accounts)
    for _ in range(3):
        with pytest.raises(CodeRejected):
            accounts.logins.login_with_code(result.pending_token, wrong(sandbox.code_for(PHONE_A)), IP)
    assert user_row(db_url, user_id).locked_until is not None

    assert accounts.logins.login_with_backup_code(result.pending_token, codes[0], IP) == user_id
    after = user_row(db_url, user_id)
    assert (after.failed_otp_count, after.locked_until) == (0, None)


# One unit of work


def test_a_backup_code_login_whose_ticket_cannot_be_written_burns_nothing(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    result = log_in_to_code_step(accounts)

    def ticket(db, uid: int) -> str:
        return accounts.sessions.issue_ticket(uid, db=db)

    with table_gone(db_url, "otp_login_ticket"), pytest.raises(SQLAlchemyError):
        accounts.logins.login_with_backup_code(result.pending_token, codes[0], IP, ticket)

    assert accounts.backup_codes.left(user_id) == 10  # the code is still unused
    # ... and the same pending login finishes with the same code once tickets can be written.
    issued = accounts.logins.login_with_backup_code(result.pending_token, codes[0], IP, ticket)
    assert accounts.sessions.redeem_ticket(issued, IP, "test").user_id == user_id
    assert accounts.backup_codes.left(user_id) == 9


def test_a_phone_change_whose_device_revocation_fails_changes_nothing(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    confirm_current_phone(accounts, sandbox, user_id)
    started = accounts.account_changes.start_new_phone(user_id, PHONE_B, "US", "sms", IP)
    code = sandbox.code_for(PHONE_B)

    with table_gone(db_url, "otp_trusted_device"), pytest.raises(SQLAlchemyError):
        accounts.account_changes.finish_change_phone(user_id, started.verification_id, code, IP)

    assert user_row(db_url, user_id).phone_number == PHONE_A
    assert "changed" not in sandbox.store.messages(PHONE_A)[0].text  # no notice of a change not made
    # The provider used the code up: a fresh one finishes, with the same confirmation of the
    # current phone (it was not used up either).
    with pytest.raises(VerificationExpired):
        accounts.account_changes.finish_change_phone(user_id, started.verification_id, code, IP)
    fresh = accounts.verifications.renew(started.verification_id, "sms", IP, "change-phone", user_id)
    accounts.account_changes.finish_change_phone(
        user_id, fresh.verification_id, sandbox.code_for(PHONE_B), IP
    )
    assert user_row(db_url, user_id).phone_number == PHONE_B


@pytest.mark.parametrize("backup", [False, True], ids=["sms-code", "backup-code"])
def test_turning_2fa_off_when_device_revocation_fails_changes_nothing(accounts, sandbox, db_url, backup):
    user_id = user_with_2fa(accounts, sandbox)
    codes = backup_codes(accounts, sandbox, user_id)
    started = accounts.account_changes.start_disable_2fa(user_id, PASSWORD, "sms", IP)
    code = codes[0] if backup else sandbox.code_for(PHONE_A)

    with table_gone(db_url, "otp_trusted_device"), pytest.raises(SQLAlchemyError):
        accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, code, IP, backup=backup)

    assert user_row(db_url, user_id).two_factor_enabled is True
    assert accounts.backup_codes.left(user_id) == 10  # a backup code used is given back too
    if not backup:  # the provider used the SMS code up: a fresh one
        started = accounts.verifications.renew(started.verification_id, "sms", IP, "disable-2fa", user_id)
        code = sandbox.code_for(PHONE_A)
    accounts.account_changes.finish_disable_2fa(user_id, started.verification_id, code, IP, backup=backup)
    assert user_row(db_url, user_id).two_factor_enabled is False


def test_new_backup_codes_that_cannot_be_stored_leave_the_old_set_working(accounts, sandbox, db_url):
    user_id = user_with_2fa(accounts, sandbox)
    old = backup_codes(accounts, sandbox, user_id)
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", IP)
    code = sandbox.code_for(PHONE_A)
    fault = _insert_fault(db_url)  # the old set is revoked first, then the new rows are refused
    try:
        with pytest.raises(SQLAlchemyError):
            accounts.account_changes.regenerate_backup_codes(user_id, started.verification_id, code, IP)
    finally:
        fault()
    assert accounts.backup_codes.left(user_id) == 10
    login = log_in_to_code_step(accounts)
    assert accounts.logins.login_with_backup_code(login.pending_token, old[0], IP) == user_id


def _insert_fault(db_url: str) -> Callable[[], None]:
    """A trigger that refuses every new backup code row; returns what removes it."""
    engine = engine_for(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_codes BEFORE INSERT ON otp_backup_code "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_codes() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_codes BEFORE INSERT ON otp_backup_code "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_codes()"
                )
            )

    def remove() -> None:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER refuse_codes"))
            else:
                connection.execute(text("DROP TRIGGER refuse_codes ON otp_backup_code"))
                connection.execute(text("DROP FUNCTION refuse_codes()"))

    return remove
