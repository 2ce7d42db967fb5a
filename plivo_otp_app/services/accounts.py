"""Accounts with verified phones and SMS two-factor login, written once for UI and API.

Each public method is one user intent. Those that change an account take the
`user_id` of a session the caller has just checked in the database; none trusts
anything the client says about who it is.

Second-factor checks of every purpose (login, 2FA on/off, phone change) share
one failure counter per account: resending never resets it, success does, and
past `OTP_LOCKOUT_AFTER` consecutive failures the SMS factor is locked for a
delay that doubles with each further failure. While locked, a right code gets
exactly the answer a wrong one gets.

The lock is decided where the count is kept, in one conditional UPDATE: a code
check first counts itself as a failure, and goes to the provider only if that
UPDATE matched (not locked, fewer than `OTP_LOCKOUT_AFTER` counted); from the
threshold on a check takes the only slot and its wrong answer sets the lock. A
right code resets the count, and a check that was never judged gives its count
back. So parallel guesses cannot all pass a lock check read before any of them
was counted: at most `OTP_LOCKOUT_AFTER` are judged before the lock.

A right, unused backup code is never refused for that lock (a stranger who
has the password must not be able to keep the owner out); a wrong one counts
like a wrong SMS code, and while the factor is locked it also ends the flow, so
every further guess costs a password step.

A change that replaces a factor (the phone, the backup codes) asks for the
current one first: a code to the verified phone, or an unused backup code.
Each change is one unit of work: the code (or backup code) is used up in the
transaction that makes the change, so a change that fails uses nothing up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, case, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import log, messages
from ..config import Settings
from ..db import session as db_session
from ..db import transaction
from ..errors import (
    BackupCodeStartOver,
    CodeRejected,
    FactorNotConfirmed,
    InvalidCredentials,
    InvalidInput,
    LoginExpired,
    NoAttemptsLeft,
    NotSignedIn,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
)
from ..models import BackupCode, PendingLogin, User, Verification
from ..passwords import check_password, hash_password, needs_rehash, verify_password
from ..phone import check_channel, check_country, mask, normalise
from ..tokens import hash_backup_code, hash_token, new_backup_codes, new_token, normalise_backup_code
from .sessions import SessionService
from .verification import Checked, Started, VerificationService, utcnow

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
BACKUP_CODE_COUNT = 10
#: Consecutive failures after which SMS codes are refused until a backup code is used
#: (NIST SP 800-63B: at most 100, then the authenticator is disabled).
SMS_FACTOR_DISABLED_AFTER = 100
#: How long a second-factor check that reached the lockout threshold holds the only slot
#: when it never reports back (its process died); well above the provider's timeouts.
_CHECK_HOLD = timedelta(seconds=60)
#: The verification that confirms the current factor before the phone is replaced.
PHONE_CHANGE_CONFIRM = "confirm-phone"
#: How long a confirmed current factor allows the phone change to go on.
CONFIRMED_FACTOR_MINUTES = 10
T = TypeVar("T")


class BackupCodeRejected(CodeRejected):
    """A backup code that is wrong, used, or tried while the account is locked."""

    code = "backup_code_incorrect"

    def __init__(self) -> None:
        super().__init__(0)

    def user_message(self) -> str:
        return messages.BACKUP_CODE_REJECTED


@dataclass(frozen=True)
class SignupResult:
    """A sign-up whose phone verification is under way.

    `user_id` is None when the name was taken: the flow looks the same, so
    sign-up reveals nothing about who has an account.
    """

    user_id: int | None
    started: Started


@dataclass(frozen=True)
class LoginResult:
    """After the password: either done, or a second factor is pending."""

    user_id: int | None = None
    pending_token: str | None = None
    masked_phone: str = ""
    started: Started | None = None
    send_error: OtpError | None = None


@dataclass(frozen=True)
class AccountView:
    """What the account page shows."""

    username: str
    email: str | None
    masked_phone: str
    is_phone_verified: bool
    two_factor_enabled: bool
    backup_codes_left: int
    #: Whether replacing the phone asks for the current factor first (2FA on a verified phone).
    phone_change_needs_factor: bool = False


class AccountService:
    """Sign up, log in with a second factor, and manage an account's phone and 2FA."""

    def __init__(
        self,
        settings: Settings,
        verifications: VerificationService,
        sessions: SessionService,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.verifications = verifications
        self.sessions = sessions
        self._db_url = db_url
        self._now = clock

    def db(self) -> Session:
        """A session on this service's database."""
        return db_session(self._db_url)

    # Sign-up

    def signup(
        self,
        username: object,
        email: object,
        password: object,
        phone: object,
        country: object,
        channel: object,
        client_ip: str,
    ) -> SignupResult:
        """Create an account with an unverified phone and send it a code."""
        name = _check_username(username)
        address = _check_email(email)
        secret = check_password(
            password, min_length=self.settings.password_min_length, username=name, email=address or ""
        )
        channel = check_channel(channel)
        country = check_country(country, self.settings.allowed_countries)
        e164 = normalise(phone, country, channel, self.settings.allowed_countries).e164
        self.verifications.limits.check_signup(client_ip)
        # The number is stored with the account, so a sign-up whose code could not be
        # sent can be verified later from the account page.
        user_id = self._create_user(name, address, hash_password(secret), e164)
        started = self.verifications.start(e164, country, channel, client_ip, "signup", user_id)
        log.event("signup", user_id=user_id, phone=started.masked, taken=user_id is None)
        return SignupResult(user_id, started)

    def finish_signup(
        self, user_id: int | None, verification_id: object, code: object, client_ip: str
    ) -> bool:
        """Check the sign-up code; True when an account now has a verified phone."""
        checked = self.verifications.check(verification_id, code, client_ip, "signup", user_id)
        if user_id is None:
            return False
        self._set_phone(user_id, checked)
        return True

    def change_signup_phone(
        self, user_id: int | None, phone: object, country: object, channel: object, client_ip: str
    ) -> Started:
        """Send the sign-up's code to another number (the first was mistyped).

        `user_id` is the account this sign-up created (None when its name was taken,
        so the flow looks the same); only a still unverified phone can be replaced.
        """
        channel = check_channel(channel)
        country = check_country(country, self.settings.allowed_countries)
        e164 = normalise(phone, country, channel, self.settings.allowed_countries).e164
        if user_id is not None and self._user(user_id).is_phone_verified:
            raise InvalidInput(messages.PHONE_ALREADY_VERIFIED)
        started = self.verifications.start(e164, country, channel, client_ip, "signup", user_id)
        if user_id is not None:
            self._update(user_id, phone_number=e164)
        log.event("signup_phone_changed", user_id=user_id, phone=started.masked)
        return started

    def start_phone_verification(self, user_id: int, channel: object, client_ip: str) -> Started:
        """Send a code to an account's still unverified phone (finishing a sign-up later)."""
        user = self._user(user_id)
        if not user.phone_number:
            raise InvalidInput(messages.PHONE_MISSING)
        if user.is_phone_verified:
            raise InvalidInput(messages.PHONE_ALREADY_VERIFIED)
        return self._code_to_own_phone(user, channel, client_ip, "signup")

    # Log-in

    def login(
        self, identifier: object, password: object, client_ip: str, device_token: str | None
    ) -> LoginResult:
        """Check the password; then finish, or send a code and hold a pending login."""
        name = identifier.strip().casefold()[:254] if isinstance(identifier, str) else ""
        if not name or not isinstance(password, str) or not password or len(password) > 1024:
            raise InvalidCredentials("missing credentials")
        if not name.isprintable():  # no account has a NUL, a control character or a lone surrogate
            raise InvalidInput(messages.LOGIN_NAME_UNUSABLE)
        with self.db() as db:
            user = db.exec(select(User).where(or_(User.username == name, User.email == name))).first()
        # Counted by the name as typed, known or not: a bucket shared by an account's username
        # and email would answer 429 for one after failures on the other, linking the two.
        self.verifications.limits.check_login(client_ip, name)
        if not verify_password(user.password_hash if user else None, password):
            log.event("login_failed", ip=client_ip)
            raise InvalidCredentials("bad credentials")
        assert user is not None and user.id is not None
        self._rehash_if_needed(user, password)
        if not (user.two_factor_enabled and user.is_phone_verified and user.phone_number):
            log.event("login_ok", user_id=user.id, factor="password")
            return LoginResult(user_id=user.id)
        if self.sessions.device_trusted(user.id, device_token):
            log.event("login_ok", user_id=user.id, factor="remembered-device")
            return LoginResult(user_id=user.id)
        return self._pending_login(user, client_ip)

    def login_resend(self, pending_token: object, channel: object, client_ip: str) -> Started:
        """Send the login code again (or by voice); a fresh one if none was sent or it is dead."""
        pending, user = self._pending(pending_token)
        if pending.verification_id:
            # A code that expired or used up its attempts is replaced by a fresh one.
            started = self.verifications.renew(pending.verification_id, channel, client_ip, "login", user.id)
            if started.verification_id != pending.verification_id:
                self._attach_verification(pending, started)
            return started
        started = self._code_to_own_phone(user, channel, client_ip, "login")
        self._attach_verification(pending, started)
        return started

    def login_with_code(self, pending_token: object, code: object, client_ip: str) -> int:
        """Finish a pending login with the SMS code; returns the user id."""
        pending, user = self._pending(pending_token)
        if not pending.verification_id:
            raise VerificationExpired("no code was sent")
        self.check_user_code(user, pending.verification_id, code, client_ip, "login")
        return self._complete(pending)

    def login_with_backup_code(
        self,
        pending_token: object,
        code: object,
        client_ip: str,
        grant: Callable[[Connection, int], T] | None = None,
    ) -> T | int:
        """Finish a pending login with a backup code (single use).

        `grant` (a ticket or a session for the user id) is written in the transaction
        that uses the code up and completes the login: a sign-in that fails burns
        nothing. Returns what `grant` returns, or the user id.
        """
        pending, user = self._pending(pending_token)
        assert user.id is not None

        def sign_in(db: Connection) -> T | int:
            done = db.execute(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(completed_at=self._now())
            ).rowcount
            if done != 1:
                raise LoginExpired("login already completed")
            return grant(db, pending.user_id) if grant is not None else pending.user_id

        result = self._redeem_backup_code(user, code, client_ip, sign_in, lambda: self._end_pending(pending))
        log.event("login_ok", user_id=user.id, factor="backup-code")
        return result

    # The account page

    def view(self, user_id: int) -> AccountView:
        """What the account page shows about the user."""
        user = self._user(user_id)
        return AccountView(
            username=user.username,
            email=user.email,
            masked_phone=_spaced_mask(user.phone_number) if user.phone_number else "",
            is_phone_verified=user.is_phone_verified,
            two_factor_enabled=user.two_factor_enabled,
            backup_codes_left=self.backup_codes_left(user_id),
            phone_change_needs_factor=_has_factor(user),
        )

    def start_enable_2fa(self, user_id: int, channel: object, client_ip: str) -> Started:
        """Send a fresh code to the verified phone before turning 2FA on."""
        user = self._user(user_id)
        if not user.is_phone_verified or not user.phone_number:
            raise InvalidInput(messages.VERIFY_PHONE_FIRST)
        if user.two_factor_enabled:
            raise InvalidInput(messages.TWO_FACTOR_ALREADY_ON)
        return self._code_to_own_phone(user, channel, client_ip, "enable-2fa")

    def finish_enable_2fa(self, user_id: int, verification_id: object, code: object, client_ip: str) -> None:
        """Turn 2FA on once the fresh code is right."""
        self._switch_2fa(user_id, verification_id, code, client_ip, on=True)

    def start_disable_2fa(self, user_id: int, password: object, channel: object, client_ip: str) -> Started:
        """Check the password, then send a code before turning 2FA off."""
        user = self._reauthenticate(user_id, password, client_ip)
        if not user.two_factor_enabled or not user.phone_number:
            raise InvalidInput(messages.TWO_FACTOR_ALREADY_OFF)
        return self._code_to_own_phone(user, channel, client_ip, "disable-2fa")

    def finish_disable_2fa(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> None:
        """Turn 2FA off once the code (or, with `backup`, an unused backup code) is right."""
        self._switch_2fa(user_id, verification_id, code, client_ip, on=False, backup=backup)

    def start_change_phone(
        self, user_id: int, password: object, phone: object, country: object, channel: object, client_ip: str
    ) -> Started:
        """Check the password, then send a code to the new number.

        Only for an account without a second factor to replace (2FA off, or the phone
        not verified). With one, the current factor comes first
        (`start_confirm_phone_change`, `confirm_phone_change`, then `start_new_phone`).
        """
        user = self._reauthenticate(user_id, password, client_ip)
        if _has_factor(user):
            raise FactorNotConfirmed("phone change without the current factor")
        return self.verifications.start(phone, country, channel, client_ip, "change-phone", user_id)

    def start_confirm_phone_change(
        self, user_id: int, password: object, channel: object, client_ip: str
    ) -> Started:
        """Check the password, then send a code to the current phone to confirm the change."""
        user = self._reauthenticate(user_id, password, client_ip)
        if not _has_factor(user):
            raise InvalidInput(messages.NEW_PHONE_AND_PASSWORD)
        return self._code_to_own_phone(user, channel, client_ip, PHONE_CHANGE_CONFIRM)

    def confirm_phone_change(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> None:
        """The current factor, shown: the code to the current phone, or (`backup`) a backup code.

        For `CONFIRMED_FACTOR_MINUTES` a new number may then get its code.
        """
        user = self._user(user_id)
        self._confirm(user, verification_id, code, client_ip, PHONE_CHANGE_CONFIRM, backup, lambda db: None)
        log.event("phone_change_confirmed", user_id=user_id, factor="backup-code" if backup else "sms")

    def start_new_phone(
        self, user_id: int, phone: object, country: object, channel: object, client_ip: str
    ) -> Started:
        """Send a code to the new number, once the current factor was confirmed."""
        with self.db() as db:
            confirmed = db.exec(
                select(func.count()).select_from(Verification).where(*self._confirmed(user_id))
            )
            if not confirmed.one():
                raise FactorNotConfirmed("no confirmed current factor")
        return self.verifications.start(phone, country, channel, client_ip, "change-phone", user_id)

    def finish_change_phone(self, user_id: int, verification_id: object, code: object, client_ip: str) -> str:
        """Switch to the new number once its code is right; returns the old number, masked.

        One transaction: the code is used up, the confirmation of the current factor (if
        the account has one) is used up, the number changes and remembered devices end.
        """
        user = self._user(user_id)
        old = user.phone_number if user.is_phone_verified else None
        needs_factor = _has_factor(user)

        def change(db: Connection) -> None:
            if needs_factor:
                used = db.execute(
                    update(Verification).where(*self._confirmed(user_id)).values(status="used")
                ).rowcount
                if not used:
                    raise FactorNotConfirmed("the confirmation of the current factor is gone")
            number = db.execute(
                select(Verification.phone).where(col(Verification.id) == verification_id)
            ).scalar_one()
            self._write_user(db, user_id, phone_number=number, is_phone_verified=True)
            self.sessions.revoke_devices(user_id, db=db)

        checked = self.check_user_code(user, verification_id, code, client_ip, "change-phone", then=change)
        if old and old != checked.e164:
            self.verifications.notify(old, messages.phone_changed_notice(_spaced_mask(checked.e164)))
        log.event("phone_changed", user_id=user_id, old=mask(old) if old else None, new=checked.masked)
        return _spaced_mask(old) if old else ""

    def start_backup_codes(self, user_id: int, password: object, channel: object, client_ip: str) -> Started:
        """Check the password, then send a code to the verified phone before new backup codes."""
        user = self._reauthenticate(user_id, password, client_ip)
        if not user.is_phone_verified or not user.phone_number:
            raise InvalidInput(messages.VERIFY_PHONE_FIRST)
        return self._code_to_own_phone(user, channel, client_ip, "backup-codes")

    def regenerate_backup_codes(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> list[str]:
        """Ten new single-use codes, shown once, once the phone's code (or, with `backup`, an
        unused backup code) is right; the old set stops working in the same transaction."""
        codes = new_backup_codes(BACKUP_CODE_COUNT)
        now = self._now()

        def replace(db: Connection) -> None:
            db.execute(
                update(BackupCode)
                .where(col(BackupCode.user_id) == user_id)
                .where(col(BackupCode.used_at).is_(None))
                .values(used_at=now)
            )
            db.execute(
                insert(BackupCode.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "user_id": user_id,
                        "code_hash": hash_backup_code(normalise_backup_code(c) or ""),
                        "created_at": now,
                    }
                    for c in codes
                ],
            )

        self._confirm(self._user(user_id), verification_id, code, client_ip, "backup-codes", backup, replace)
        log.event("backup_codes_generated", user_id=user_id)
        return codes

    def backup_codes_left(self, user_id: int) -> int:
        """How many backup codes are still unused."""
        with self.db() as db:
            return db.exec(
                select(func.count())
                .select_from(BackupCode)
                .where(BackupCode.user_id == user_id)
                .where(col(BackupCode.used_at).is_(None))
            ).one()

    # Shared rules

    def check_user_code(
        self,
        user: User,
        verification_id: object,
        code: object,
        client_ip: str,
        purpose: str,
        then: Callable[[Connection], None] | None = None,
    ) -> Checked:
        """Check a code of `user` for `purpose` under the account's failure counter and lockout.

        A right code resets the counter, and runs `then` (the change it allows), in the
        transaction that uses the code up.
        """
        assert user.id is not None
        user_id = user.id
        if not self._claim_guess(user.id):
            self._refusal(user.id)
            log.event("validate_refused", logging.WARNING, user_id=user.id, reason="locked", purpose=purpose)
            self.verifications.refuse(verification_id, code, client_ip, purpose, user.id)

        def reset_then_change(db: Connection) -> None:
            self._write_user(db, user_id, failed_otp_count=0, locked_until=None)
            if then is not None:
                then(db)

        try:
            return self.verifications.check(
                verification_id, code, client_ip, purpose, user.id, then=reset_then_change
            )
        except NoAttemptsLeft:
            self._refund_guess(user.id)  # no code was judged: nothing to count
            raise
        except (CodeRejected, TooManyAttempts):
            self._judged_wrong(user.id)  # counted by the claim
            raise
        except BaseException:
            self._refund_guess(user.id)
            raise

    def _pending_login(self, user: User, client_ip: str) -> LoginResult:
        assert user.id is not None and user.phone_number
        token = new_token()
        now = self._now()
        pending = PendingLogin(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=self.settings.pending_login_minutes),
        )
        with self.db() as db:
            db.add(pending)
            db.commit()
            db.refresh(pending)
        started, error = None, None
        try:
            started = self._code_to_own_phone(user, "sms", client_ip, "login")
            self._attach_verification(pending, started)
        except OtpError as exc:
            error = exc
        log.event(
            "login_code_pending", user_id=user.id, phone=mask(user.phone_number), sent=started is not None
        )
        return LoginResult(
            pending_token=token,
            masked_phone=_spaced_mask(user.phone_number),
            started=started,
            send_error=error,
        )

    def _code_to_own_phone(self, user: User, channel: object, client_ip: str, purpose: str) -> Started:
        """Send a code for `purpose` to the number stored on the account (already E.164)."""
        return self.verifications.start(
            user.phone_number, self.settings.default_country, channel, client_ip, purpose, user.id
        )

    def _attach_verification(self, pending: PendingLogin, started: Started) -> None:
        with self.db() as db:
            db.exec(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .values(verification_id=started.verification_id)
            )
            db.commit()

    def _pending(self, token: object) -> tuple[PendingLogin, User]:
        """The live pending login for a token; the same refusal for anything else."""
        if not isinstance(token, str) or not token or len(token) > 100:
            raise LoginExpired("no pending login")
        with self.db() as db:
            pending = db.exec(
                select(PendingLogin).where(PendingLogin.token_hash == hash_token(token))
            ).first()
            user = db.get(User, pending.user_id) if pending else None
        if (
            pending is None
            or user is None
            or pending.completed_at is not None
            or pending.expires_at <= self._now()
        ):
            raise LoginExpired("no pending login")
        return pending, user

    def _complete(self, pending: PendingLogin) -> int:
        """Mark the pending login used, once; returns its user id."""
        with self.db() as db:
            done = db.exec(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(completed_at=self._now())
            ).rowcount
            db.commit()
        if done != 1:
            raise LoginExpired("login already completed")
        log.event("login_ok", user_id=pending.user_id, factor="sms")
        return pending.user_id

    def _claim_guess(self, user_id: int) -> bool:
        """Count a second-factor check as a failure before its code is judged, unless the
        account is locked or as many checks as the threshold allows are in flight: one
        conditional UPDATE, whose match decides.

        From the threshold on, a claim takes the only slot: it clears `locked_until` (the
        ended lock) and stamps `updated_at`, and the judgement sets the next lock. A claim
        whose process died is given up after `_CHECK_HOLD`.
        """
        now = self._now()
        count, until = col(User.failed_otp_count), col(User.locked_until)
        free = (until.is_not(None) & (until <= now)) | (
            until.is_(None)
            & ((count < self.settings.lockout_after) | (col(User.updated_at) <= now - _CHECK_HOLD))
        )
        with self.db() as db:
            claimed = db.exec(
                update(User)
                .where(col(User.id) == user_id, count < SMS_FACTOR_DISABLED_AFTER, free)
                .values(
                    failed_otp_count=count + 1,
                    locked_until=case((count + 1 >= self.settings.lockout_after, None), else_=until),
                    updated_at=now,
                )
            ).rowcount
            db.commit()
        return claimed == 1

    def _refusal(self, user_id: int) -> None:
        """Raise `RateLimited` when a claim was refused only because checks are in flight
        (nothing judged, nothing counted); return when the account is locked."""
        user = self._user(user_id)
        if self._locked(user) or user.locked_until is not None:
            return
        log.event("validate_refused", logging.WARNING, user_id=user_id, reason="checks-in-flight")
        raise RateLimited(1, "verify")

    def _judged_wrong(self, user_id: int) -> None:
        """A claimed check's code was wrong: from the threshold on, lock for a delay that
        doubles with each failure (in the statement; the count decides)."""
        now = self._now()
        with self.db() as db:
            locked = db.exec(
                update(User)
                .where(col(User.id) == user_id, col(User.failed_otp_count) >= self.settings.lockout_after)
                .values(locked_until=self._lock_end(now, User.failed_otp_count))
            ).rowcount
            db.commit()
        if locked:
            log.event("account_locked", logging.WARNING, user_id=user_id)

    def _count_failure(self, user_id: int) -> None:
        """One more consecutive failure (a backup code: judged without a claim) and, from
        the threshold on, the lock, in one statement."""
        now = self._now()
        count = User.failed_otp_count
        with self.db() as db:
            db.exec(
                update(User)
                .where(col(User.id) == user_id)
                .values(
                    failed_otp_count=count + 1,
                    locked_until=case(
                        (count + 1 >= self.settings.lockout_after, self._lock_end(now, count + 1)),
                        else_=User.locked_until,
                    ),
                )
            )
            db.commit()

    def _lock_end(self, now: datetime, failures: Any) -> Any:
        """`locked_until` as SQL for an account with `failures` (at least the threshold):
        `now` plus the base delay, doubled per further failure, at most the maximum. The
        doublings before the maximum are few, each a bound value: no date arithmetic in SQL."""
        base, longest = self.settings.lockout_base_seconds, self.settings.lockout_max_seconds
        lock_type = User.__table__.c.locked_until.type  # type: ignore[attr-defined]
        doublings = []
        while base * 2 ** len(doublings) < longest:
            doublings.append(now + timedelta(seconds=base * 2 ** len(doublings)))
        longest_end = bindparam("lock_end_max", now + timedelta(seconds=longest), type_=lock_type)
        if not doublings:
            return longest_end
        beyond = failures - self.settings.lockout_after
        return case(
            *(
                (beyond == n, bindparam(f"lock_end_{n}", end, type_=lock_type))
                for n, end in enumerate(doublings)
            ),
            else_=longest_end,
        )

    def _refund_guess(self, user_id: int) -> None:
        """Give back the failure a claim counted for a check that was never judged (the
        provider was down, the flow had ended); a slot it held is free again."""
        count, until = User.failed_otp_count, User.locked_until
        ended = bindparam("ended", self._now(), type_=User.__table__.c.locked_until.type)  # type: ignore[attr-defined]
        with self.db() as db:
            db.exec(
                update(User)
                .where(col(User.id) == user_id, col(count) > 0)
                .values(
                    failed_otp_count=count - 1,
                    locked_until=case(
                        (col(until).is_(None) & (count - 1 >= self.settings.lockout_after), ended),
                        else_=until,
                    ),
                )
            )
            db.commit()

    def _locked(self, user: User) -> bool:
        """Locked for a while, or (at 100 failures) until a backup code signs in (BF-02)."""
        if user.failed_otp_count >= SMS_FACTOR_DISABLED_AFTER:
            return True
        return user.locked_until is not None and user.locked_until > self._now()

    def _switch_2fa(
        self,
        user_id: int,
        verification_id: object,
        code: object,
        client_ip: str,
        on: bool,
        backup: bool = False,
    ) -> None:
        """Turn 2FA on or off once the code sent for that change is right; remembered devices
        end, in the same transaction."""
        change = "enable-2fa" if on else "disable-2fa"

        def switch(db: Connection) -> None:
            self._write_user(db, user_id, two_factor_enabled=on)
            self.sessions.revoke_devices(user_id, db=db)

        self._confirm(
            self._user(user_id), verification_id, code, client_ip, change, backup and not on, switch
        )
        log.event("2fa_enabled" if on else "2fa_disabled", user_id=user_id)

    def _confirm(
        self,
        user: User,
        verification_id: object,
        code: object,
        client_ip: str,
        purpose: str,
        backup: bool,
        change: Callable[[Connection], None],
    ) -> None:
        """The current factor for an account change: the code sent for `purpose`, or (`backup`)
        an unused backup code standing in for it. `change` commits with it, or nothing does.

        The verification started for `purpose` is needed either way: it proves the step
        before (the password), and a backup code closes it.
        """
        if not backup:
            self.check_user_code(user, verification_id, code, client_ip, purpose, then=change)
            return
        assert user.id is not None
        self.verifications.ensure_open(verification_id, purpose, user.id)
        flow = str(verification_id)

        def vouch_then_change(db: Connection) -> None:
            self.verifications.vouch(db, flow)
            change(db)

        self._redeem_backup_code(
            user, code, client_ip, vouch_then_change, lambda: self.verifications.end(flow)
        )

    def _redeem_backup_code(
        self,
        user: User,
        code: object,
        client_ip: str,
        grant: Callable[[Connection], T],
        end_flow: Callable[[], None],
    ) -> T:
        """Use up one unused backup code of `user` and run `grant`, in one transaction.

        A right code is never refused for the SMS factor's lock (temporary, or after
        `SMS_FACTOR_DISABLED_AFTER` failures), and lifts it. A wrong one counts as a
        failure; while the factor is locked it ends the flow instead (`end_flow`), so
        each further guess costs a password step.
        """
        assert user.id is not None
        normalised = normalise_backup_code(code)
        if normalised is None:
            raise InvalidInput(messages.BACKUP_CODE_FORMAT)
        self.verifications.limits.check_verify(client_ip)
        with transaction(self._db_url) as db:
            used = db.execute(
                update(BackupCode)
                .where(col(BackupCode.user_id) == user.id)
                .where(col(BackupCode.code_hash) == hash_backup_code(normalised))
                .where(col(BackupCode.used_at).is_(None))
                .values(used_at=self._now())
            ).rowcount
            if used == 1:
                self._write_user(db, user.id, failed_otp_count=0, locked_until=None)
                result = grant(db)
        if used == 1:
            log.event("backup_code_used", user_id=user.id, left=self.backup_codes_left(user.id))
            return result
        if self._locked(user):
            end_flow()
            log.event("backup_code_refused", logging.WARNING, user_id=user.id, reason="wrong-while-locked")
            raise BackupCodeStartOver("wrong backup code while locked")
        self._count_failure(user.id)
        log.event("backup_code_refused", logging.WARNING, user_id=user.id, reason="wrong")
        raise BackupCodeRejected

    def _confirmed(self, user_id: int) -> tuple[object, ...]:
        """Where-clauses of a live, unused confirmation of the current factor for a phone change."""
        since = self._now() - timedelta(minutes=CONFIRMED_FACTOR_MINUTES)
        return (
            col(Verification.user_id) == user_id,
            col(Verification.purpose) == PHONE_CHANGE_CONFIRM,
            col(Verification.status) == "verified",
            col(Verification.verified_at) > since,
        )

    def _end_pending(self, pending: PendingLogin) -> None:
        """End a pending login unfinished: its token is refused from now on."""
        with self.db() as db:
            db.exec(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(expires_at=self._now())
            )
            db.commit()

    def _reauthenticate(self, user_id: int, password: object, client_ip: str) -> User:
        """The user, if `password` is theirs (for changes that need a fresh password)."""
        user = self._user(user_id)
        self.verifications.limits.check_login(client_ip, user.username)
        if not isinstance(password, str) or not verify_password(user.password_hash, password):
            log.event("reauth_failed", user_id=user_id, ip=client_ip)
            raise InvalidCredentials("bad password")
        return user

    def _rehash_if_needed(self, user: User, password: str) -> None:
        if needs_rehash(user.password_hash):
            self._update(user.id or 0, password_hash=hash_password(password))

    def _create_user(self, name: str, email: str | None, password_hash: str, e164: str) -> int | None:
        now = self._now()
        user = User(
            username=name,
            email=email,
            password_hash=password_hash,
            phone_number=e164,
            created_at=now,
            updated_at=now,
        )
        with self.db() as db:
            db.add(user)
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return None
            db.refresh(user)
        return user.id

    def _write_user(self, db: Connection, user_id: int, **values: object) -> None:
        """Update the user in the caller's transaction."""
        db.execute(update(User).where(col(User.id) == user_id).values(updated_at=self._now(), **values))

    def _set_phone(self, user_id: int, checked: Checked) -> None:
        self._update(user_id, phone_number=checked.e164, is_phone_verified=True)

    def _update(self, user_id: int, **values: object) -> None:
        with self.db() as db:
            db.exec(update(User).where(col(User.id) == user_id).values(updated_at=self._now(), **values))
            db.commit()

    def _user(self, user_id: int) -> User:
        with self.db() as db:
            user = db.get(User, user_id)
        if user is None:
            raise NotSignedIn("user is gone")
        return user


def _has_factor(user: User) -> bool:
    """Whether the account has a second factor that a change must not replace without it."""
    return bool(user.two_factor_enabled and user.is_phone_verified and user.phone_number)


def _check_username(value: object) -> str:
    name = value.strip().casefold() if isinstance(value, str) else ""
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(messages.USERNAME_RULES)
    return name


def _check_email(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    address = value.strip().casefold() if isinstance(value, str) else ""
    if len(address) > 254 or not address.isprintable() or not _EMAIL.fullmatch(address):
        raise InvalidInput(messages.EMAIL_INVALID)
    return address


def _spaced_mask(e164: str | None) -> str:
    """`+14155552671` -> `+1 ******2671`, for screens."""
    if not e164:
        return ""
    masked = mask(e164)
    stars = masked.index("*") if "*" in masked else len(masked) - 4
    return f"{masked[:stars]} {masked[stars:]}"
