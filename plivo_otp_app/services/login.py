"""Log-in: the password, then (with two-factor login on) a code or a backup code.

After the right password an account with 2FA gets a pending login: a token
the browser holds for the second step, bound to the code sent to the verified
phone. A remembered device skips that step. The code is checked under the
account's lockout (`lockout.py`); a backup code is used up in the transaction
that completes the login and writes what it grants (a ticket, a session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, update
from sqlmodel import Session, col, select

from .. import log, messages
from ..audit import Audit, AuditKind
from ..config import Settings
from ..db import session as db_session
from ..db import transaction
from ..enums import Channel, Purpose
from ..errors import InvalidCredentials, InvalidInput, LoginExpired, OtpError, VerificationExpired
from ..models import PendingLogin, User
from ..passwords import verify_password
from ..phone import mask
from ..ratelimit import RateLimits
from ..tokens import hash_token, new_token
from .backup_codes import BackupCodes
from .lockout import Lockout
from .sessions import SessionService
from .users import Users, has_factor, login_key, spaced_mask
from .verification import Started, VerificationService, utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class LoginResult:
    """After the password: either done, or a second factor is pending."""

    user_id: int | None = None
    pending_token: str | None = None
    masked_phone: str = ""
    started: Started | None = None
    send_error: OtpError | None = None


class LoginService:
    """Check a password, hold the pending login, and finish it with the second factor."""

    def __init__(
        self,
        settings: Settings,
        verifications: VerificationService,
        sessions: SessionService,
        limits: RateLimits,
        users: Users,
        lockout: Lockout,
        backup_codes: BackupCodes,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        audit: Audit | None = None,
    ) -> None:
        self._settings = settings
        self._verifications = verifications
        self._sessions = sessions
        self._limits = limits
        self._users = users
        self._lockout = lockout
        self._backup_codes = backup_codes
        self._db_url = db_url
        self._now = clock
        self._audit = audit or verifications.audit

    def login(
        self, identifier: object, password: object, client_ip: str, device_token: str | None
    ) -> LoginResult:
        """Check the password; then finish, or send a code and hold a pending login."""
        typed = identifier.strip()[:254] if isinstance(identifier, str) else ""
        if not typed or not isinstance(password, str) or not password or len(password) > 1024:
            raise InvalidCredentials("missing credentials")
        if not typed.isprintable():  # no account has a NUL, a control character or a lone surrogate
            raise InvalidInput(messages.LOGIN_NAME_UNUSABLE, field="username")
        name = login_key(typed)
        user = self._users.find(name)
        # Counted by the name, known or not: each look-alike of a username counts as that
        # username. But a bucket shared by an account's username and email would answer 429
        # for one after failures on the other, linking the two.
        self._limits.check_login(client_ip, name)
        if not verify_password(user.password_hash if user else None, password):
            log.event("login_failed", ip=client_ip)
            raise InvalidCredentials("bad credentials")
        assert user is not None and user.id is not None
        self._users.rehash_if_needed(user, password)
        if not has_factor(user):
            self._logged_in(user.id, "password", client_ip)
            return LoginResult(user_id=user.id)
        if self._sessions.device_trusted(user.id, device_token):
            self._logged_in(user.id, "remembered-device", client_ip)
            return LoginResult(user_id=user.id)
        return self._pending_login(user, client_ip)

    def login_resend(self, pending_token: object, channel: object, client_ip: str) -> Started:
        """Send the login code again (or by voice); a fresh one if none was sent or it is dead."""
        pending, user = self._pending(pending_token)
        if pending.verification_id:
            # A code that expired or used up its attempts is replaced by a fresh one.
            started = self._verifications.renew(
                pending.verification_id, channel, client_ip, Purpose.LOGIN, user.id
            )
            if started.verification_id != pending.verification_id:
                self._attach_verification(pending, started)
            return started
        started = self._verifications.start_to_account(user, channel, client_ip, Purpose.LOGIN)
        self._attach_verification(pending, started)
        return started

    def login_with_code(self, pending_token: object, code: object, client_ip: str) -> int:
        """Finish a pending login with the SMS code; returns the user id."""
        pending, user = self._pending(pending_token)
        if not pending.verification_id:
            raise VerificationExpired("no code was sent")
        self._lockout.check_code(user, pending.verification_id, code, client_ip, Purpose.LOGIN)
        return self._complete(pending, client_ip)

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
            self._audit.record(
                db, AuditKind.LOGIN, user_id=pending.user_id, address=client_ip, outcome="backup-code"
            )
            return grant(db, pending.user_id) if grant is not None else pending.user_id

        result = self._backup_codes.redeem(user, code, client_ip, sign_in, lambda: self._end_pending(pending))
        log.event("login_ok", user_id=user.id, factor="backup-code")
        return result

    def _logged_in(self, user_id: int, factor: str, client_ip: str) -> None:
        """A login that took no second step: its `login` event is all it writes."""
        with transaction(self._db_url) as db:
            self._audit.record(db, AuditKind.LOGIN, user_id=user_id, address=client_ip, outcome=factor)
        log.event("login_ok", user_id=user_id, factor=factor)

    def _db(self) -> Session:
        return db_session(self._db_url)

    def _pending_login(self, user: User, client_ip: str) -> LoginResult:
        assert user.id is not None and user.phone_number
        token = new_token()
        now = self._now()
        pending = PendingLogin(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=self._settings.accounts.pending_login_minutes),
        )
        with self._db() as db:
            db.add(pending)
            db.commit()
            db.refresh(pending)
        started, error = None, None
        try:
            started = self._verifications.start_to_account(user, Channel.SMS, client_ip, Purpose.LOGIN)
            self._attach_verification(pending, started)
        except OtpError as exc:
            error = exc
        log.event(
            "login_code_pending", user_id=user.id, phone=mask(user.phone_number), sent=started is not None
        )
        return LoginResult(
            pending_token=token,
            masked_phone=spaced_mask(user.phone_number),
            started=started,
            send_error=error,
        )

    def _attach_verification(self, pending: PendingLogin, started: Started) -> None:
        with self._db() as db:
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
        with self._db() as db:
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

    def _complete(self, pending: PendingLogin, client_ip: str) -> int:
        """Mark the pending login used, once, with its `login` event; returns its user id."""
        with self._db() as db:
            done = db.exec(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(completed_at=self._now())
            ).rowcount
            if done == 1:
                self._audit.record(
                    db, AuditKind.LOGIN, user_id=pending.user_id, address=client_ip, outcome="sms"
                )
            db.commit()
        if done != 1:
            raise LoginExpired("login already completed")
        log.event("login_ok", user_id=pending.user_id, factor="sms")
        return pending.user_id

    def _end_pending(self, pending: PendingLogin) -> None:
        """End a pending login unfinished: its token is refused from now on."""
        with self._db() as db:
            db.exec(
                update(PendingLogin)
                .where(col(PendingLogin.id) == pending.id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(expires_at=self._now())
            )
            db.commit()
