"""The account page's changes: two-factor login on and off, a new phone, new backup codes.

Each takes the `user_id` of a session the caller has just checked. A change
that replaces a factor (the phone, the backup codes) asks for the current one
first: a code to the verified phone, or an unused backup code. Each change is
one unit of work: the code (or backup code) is used up in the transaction that
makes the change, so a change that fails uses nothing up; its audit event is written there
too. `security_events` reads the account's own recent events for its page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, func, update
from sqlmodel import Session, col, select

from .. import log, messages
from ..audit import Audit, AuditKind
from ..db import session as db_session
from ..enums import Purpose, Status
from ..errors import FactorNotConfirmed, InvalidInput
from ..models import AuditEvent, User, Verification
from ..phone import mask
from .backup_codes import BackupCodes
from .lockout import Lockout
from .sessions import SessionService
from .users import Users, has_factor, spaced_mask
from .verification import Started, VerificationService, utcnow

#: How long a confirmed current factor allows the phone change to go on.
CONFIRMED_FACTOR_MINUTES = 10
#: How many of its latest security events the account page lists.
SECURITY_EVENTS_SHOWN = 20
#: The events an account's owner is shown about their account (the others are operators' only).
OWNER_KINDS = frozenset(
    {
        AuditKind.SEND_SENT,
        AuditKind.CODE_VERIFIED,
        AuditKind.CODE_FAILED,
        AuditKind.LOCKOUT,
        AuditKind.LOGIN,
        AuditKind.LOGOUT,
        AuditKind.TWO_FACTOR_ON,
        AuditKind.TWO_FACTOR_OFF,
        AuditKind.PHONE_CHANGED,
        AuditKind.PASSWORD_RESET,
        AuditKind.BACKUP_CODES_REGENERATED,
        AuditKind.DEVICE_REMEMBERED,
        AuditKind.DEVICE_REVOKED,
    }
)


@dataclass(frozen=True)
class AccountView:
    """What the account page shows."""

    username: str
    #: The username as its owner typed it (`username` is its canonical form).
    display_username: str
    email: str | None
    masked_phone: str
    is_phone_verified: bool
    two_factor_enabled: bool
    backup_codes_left: int
    #: Whether replacing the phone asks for the current factor first (2FA on a verified phone).
    phone_change_needs_factor: bool = False


@dataclass(frozen=True)
class SecurityEvent:
    """One of an account's own security events, as its page lists it: no operator's detail."""

    kind: str
    at: datetime
    address: str
    masked_phone: str


class AccountChanges:
    """Show an account, and change its second factor, phone and backup codes."""

    def __init__(
        self,
        verifications: VerificationService,
        sessions: SessionService,
        users: Users,
        lockout: Lockout,
        backup_codes: BackupCodes,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        audit: Audit | None = None,
    ) -> None:
        self._verifications = verifications
        self._sessions = sessions
        self._users = users
        self._lockout = lockout
        self._backup_codes = backup_codes
        self._db_url = db_url
        self._now = clock
        self._audit = audit or verifications.audit

    def view(self, user_id: int) -> AccountView:
        """What the account page shows about the user."""
        user = self._users.get(user_id)
        return AccountView(
            username=user.username,
            display_username=user.display_username,
            email=user.email,
            masked_phone=spaced_mask(user.phone_number) if user.phone_number else "",
            is_phone_verified=user.is_phone_verified,
            two_factor_enabled=user.two_factor_enabled,
            backup_codes_left=self._backup_codes.left(user_id),
            phone_change_needs_factor=has_factor(user),
        )

    def security_events(self, user_id: int, limit: int = SECURITY_EVENTS_SHOWN) -> list[SecurityEvent]:
        """The account's own latest security events (`OWNER_KINDS`), newest first.

        Only the kind, the time, the address and the masked number: a refusal's rule, a
        session id and the operators' notes stay in the trail.
        """
        with self._db() as db:
            rows = db.exec(
                select(AuditEvent)
                .where(col(AuditEvent.user_id) == user_id, col(AuditEvent.kind).in_(sorted(OWNER_KINDS)))
                .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
                .limit(max(1, min(limit, 100)))
            ).all()
        return [SecurityEvent(row.kind, row.at, row.address, _spaced(row.phone_masked)) for row in rows]

    # Two-factor login on and off

    def start_enable_2fa(self, user_id: int, channel: object, client_ip: str) -> Started:
        """Send a fresh code to the verified phone before turning 2FA on."""
        user = self._users.get(user_id)
        if not user.is_phone_verified or not user.phone_number:
            raise InvalidInput(messages.VERIFY_PHONE_FIRST)
        if user.two_factor_enabled:
            raise InvalidInput(messages.TWO_FACTOR_ALREADY_ON)
        return self._verifications.start_to_account(user, channel, client_ip, Purpose.ENABLE_2FA)

    def finish_enable_2fa(self, user_id: int, verification_id: object, code: object, client_ip: str) -> None:
        """Turn 2FA on once the fresh code is right."""
        self._switch_2fa(user_id, verification_id, code, client_ip, on=True)

    def start_disable_2fa(self, user_id: int, password: object, channel: object, client_ip: str) -> Started:
        """Check the password, then send a code before turning 2FA off."""
        user = self._users.reauthenticate(user_id, password, client_ip)
        if not user.two_factor_enabled or not user.phone_number:
            raise InvalidInput(messages.TWO_FACTOR_ALREADY_OFF)
        return self._verifications.start_to_account(user, channel, client_ip, Purpose.DISABLE_2FA)

    def finish_disable_2fa(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> None:
        """Turn 2FA off once the code (or, with `backup`, an unused backup code) is right."""
        self._switch_2fa(user_id, verification_id, code, client_ip, on=False, backup=backup)

    # A new phone

    def start_change_phone(
        self, user_id: int, password: object, phone: object, country: object, channel: object, client_ip: str
    ) -> Started:
        """Check the password, then send a code to the new number.

        Only for an account without a second factor to replace (2FA off, or the phone
        not verified). With one, the current factor comes first
        (`start_confirm_phone_change`, `confirm_phone_change`, then `start_new_phone`).
        """
        user = self._users.reauthenticate(user_id, password, client_ip)
        if has_factor(user):
            raise FactorNotConfirmed("phone change without the current factor")
        return self._verifications.start(phone, country, channel, client_ip, Purpose.CHANGE_PHONE, user_id)

    def start_confirm_phone_change(
        self, user_id: int, password: object, channel: object, client_ip: str
    ) -> Started:
        """Check the password, then send a code to the current phone to confirm the change."""
        user = self._users.reauthenticate(user_id, password, client_ip)
        if not has_factor(user):
            raise InvalidInput(messages.NEW_PHONE_AND_PASSWORD)
        return self._verifications.start_to_account(user, channel, client_ip, Purpose.CONFIRM_PHONE)

    def confirm_phone_change(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> None:
        """The current factor, shown: the code to the current phone, or (`backup`) a backup code.

        For `CONFIRMED_FACTOR_MINUTES` a new number may then get its code.
        """
        user = self._users.get(user_id)
        self._confirm(user, verification_id, code, client_ip, Purpose.CONFIRM_PHONE, backup, lambda db: None)
        log.event("phone_change_confirmed", user_id=user_id, factor="backup-code" if backup else "sms")

    def start_new_phone(
        self, user_id: int, phone: object, country: object, channel: object, client_ip: str
    ) -> Started:
        """Send a code to the new number, once the current factor was confirmed."""
        with self._db() as db:
            confirmed = db.exec(
                select(func.count()).select_from(Verification).where(*self._confirmed(user_id))
            )
            if not confirmed.one():
                raise FactorNotConfirmed("no confirmed current factor")
        return self._verifications.start(phone, country, channel, client_ip, Purpose.CHANGE_PHONE, user_id)

    def finish_change_phone(self, user_id: int, verification_id: object, code: object, client_ip: str) -> str:
        """Switch to the new number once its code is right; returns the old number, masked.

        One transaction: the code is used up, the confirmation of the current factor (if
        the account has one) is used up, the number changes and remembered devices end.
        """
        user = self._users.get(user_id)
        old = user.phone_number if user.is_phone_verified else None
        needs_factor = has_factor(user)

        def change(db: Connection) -> None:
            if needs_factor:
                used = db.execute(
                    update(Verification).where(*self._confirmed(user_id)).values(status=Status.USED)
                ).rowcount
                if not used:
                    raise FactorNotConfirmed("the confirmation of the current factor is gone")
            number = db.execute(
                select(Verification.phone).where(col(Verification.id) == verification_id)
            ).scalar_one()
            self._users.write(db, user_id, phone_number=number, is_phone_verified=True)
            self._sessions.revoke_devices(user_id, db=db)
            self._audit.record(
                db,
                AuditKind.PHONE_CHANGED,
                phone=number,
                user_id=user_id,
                address=client_ip,
                detail=f"from {mask(old)}" if old else "",
            )

        checked = self._lockout.check_code(
            user, verification_id, code, client_ip, Purpose.CHANGE_PHONE, then=change
        )
        if old and old != checked.e164:
            self._verifications.notify(old, messages.phone_changed_notice(spaced_mask(checked.e164)))
        log.event("phone_changed", user_id=user_id, old=mask(old) if old else None, new=checked.masked)
        return spaced_mask(old) if old else ""

    # New backup codes

    def start_backup_codes(self, user_id: int, password: object, channel: object, client_ip: str) -> Started:
        """Check the password, then send a code to the verified phone before new backup codes."""
        user = self._users.reauthenticate(user_id, password, client_ip)
        if not user.is_phone_verified or not user.phone_number:
            raise InvalidInput(messages.VERIFY_PHONE_FIRST)
        return self._verifications.start_to_account(user, channel, client_ip, Purpose.BACKUP_CODES)

    def regenerate_backup_codes(
        self, user_id: int, verification_id: object, code: object, client_ip: str, backup: bool = False
    ) -> list[str]:
        """Ten new single-use codes, shown once, once the phone's code (or, with `backup`, an
        unused backup code) is right; the old set stops working in the same transaction."""
        codes = self._backup_codes.new_codes()
        user = self._users.get(user_id)
        self._confirm(
            user,
            verification_id,
            code,
            client_ip,
            Purpose.BACKUP_CODES,
            backup,
            lambda db: self._regenerated(db, user_id, codes, client_ip),
        )
        log.event("backup_codes_generated", user_id=user_id)
        return codes

    def _db(self) -> Session:
        return db_session(self._db_url)

    def _regenerated(self, db: Connection, user_id: int, codes: list[str], client_ip: str) -> None:
        self._backup_codes.replace(db, user_id, codes)
        self._audit.record(db, AuditKind.BACKUP_CODES_REGENERATED, user_id=user_id, address=client_ip)

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
        change = Purpose.ENABLE_2FA if on else Purpose.DISABLE_2FA

        def switch(db: Connection) -> None:
            self._users.write(db, user_id, two_factor_enabled=on)
            self._sessions.revoke_devices(user_id, db=db)
            kind = AuditKind.TWO_FACTOR_ON if on else AuditKind.TWO_FACTOR_OFF
            self._audit.record(db, kind, user_id=user_id, address=client_ip)

        user = self._users.get(user_id)
        self._confirm(user, verification_id, code, client_ip, change, backup and not on, switch)
        log.event("2fa_enabled" if on else "2fa_disabled", user_id=user_id)

    def _confirm(
        self,
        user: User,
        verification_id: object,
        code: object,
        client_ip: str,
        purpose: Purpose,
        backup: bool,
        change: Callable[[Connection], None],
    ) -> None:
        """The current factor for an account change: the code sent for `purpose`, or (`backup`)
        an unused backup code standing in for it. `change` commits with it, or nothing does.

        The verification started for `purpose` is needed either way: it proves the step
        before (the password), and a backup code closes it.
        """
        if not backup:
            self._lockout.check_code(user, verification_id, code, client_ip, purpose, then=change)
            return
        assert user.id is not None
        self._verifications.ensure_open(verification_id, purpose, user.id)
        flow = str(verification_id)

        def vouch_then_change(db: Connection) -> None:
            self._verifications.vouch(db, flow)
            change(db)

        self._backup_codes.redeem(
            user, code, client_ip, vouch_then_change, lambda: self._verifications.end(flow)
        )

    def _confirmed(self, user_id: int) -> tuple[ColumnElement[bool], ...]:
        """Where-clauses of a live, unused confirmation of the current factor for a phone change."""
        since = self._now() - timedelta(minutes=CONFIRMED_FACTOR_MINUTES)
        return (
            col(Verification.user_id) == user_id,
            col(Verification.purpose) == Purpose.CONFIRM_PHONE,
            col(Verification.status) == Status.VERIFIED,
            col(Verification.verified_at) > since,
        )


def _spaced(masked: str) -> str:
    """`+1******2671` -> `+1 ******2671`, as the page shows a number (`spaced_mask`)."""
    stars = masked.find("*")
    return f"{masked[:stars]} {masked[stars:]}" if stars > 0 else masked
