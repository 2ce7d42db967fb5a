"""Login sessions, one-time login tickets and remembered devices.

A session token is issued only once a whole login has succeeded: the login
handler stores a one-time ticket, the browser redeems it at a backend route
that sets the HttpOnly cookie (see `auth_api.py`). Tokens are 256-bit random
values kept only as SHA-256 hashes; every check reads the database, so a
revoked session is refused at once, on every worker. A log-out, a remembered device and a
forgotten one are audit events, written with the change they record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, insert, update
from sqlmodel import Session, col, select

from .. import log
from ..audit import Audit, AuditKind
from ..config import Settings
from ..db import session as db_session
from ..db import transaction
from ..devices import device_name
from ..models import AuthSession, LoginTicket, TrustedDevice, User
from ..tokens import hash_token, new_token
from .verification import utcnow

TICKET_SECONDS = 60


@dataclass(frozen=True)
class Redeemed:
    """What a redeemed ticket gives the browser."""

    user_id: int
    session_token: str
    device_token: str | None
    landing: str


@dataclass(frozen=True)
class SessionInfo:
    """One active session, as the account page lists it."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    ip: str
    user_agent: str
    current: bool


@dataclass(frozen=True)
class DeviceInfo:
    """One remembered device, as the account page lists it."""

    id: int
    label: str
    created_at: datetime
    expires_at: datetime


class SessionService:
    """Issue, check and end sessions; remember and forget devices."""

    def __init__(
        self,
        settings: Settings,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        audit: Audit | None = None,
    ):
        self.settings = settings
        self._db_url = db_url
        self._now = clock
        self._audit = audit or Audit(settings.audit, db_url, clock)

    def db(self) -> Session:
        """A session on this service's database."""
        return db_session(self._db_url)

    def issue_ticket(
        self,
        user_id: int,
        remember_device: bool = False,
        landing: str = "/account",
        browser: str | None = None,
        db: Connection | None = None,
    ) -> str:
        """A single-use ticket, valid for a minute, that the browser redeems for its cookie.

        `browser` is the value of the browser cookie of the browser that logged in: only a
        request carrying the same cookie redeems the ticket (`redeem_ticket(..., browser=)`).
        Given `db`, the ticket is written in the caller's transaction (a sign-in whose
        other steps must commit with it, or not at all).
        """
        ticket = new_token()
        with self._unit(db) as unit:
            unit.execute(
                insert(LoginTicket.__table__).values(  # type: ignore[attr-defined]
                    ticket_hash=hash_token(ticket),
                    user_id=user_id,
                    remember_device=remember_device,
                    landing=landing[:255],
                    browser_hash=hash_token(browser) if browser is not None else None,
                    expires_at=self._now() + timedelta(seconds=TICKET_SECONDS),
                )
            )
        return ticket

    def redeem_ticket(
        self,
        ticket: object,
        ip: str,
        user_agent: str,
        previous_token: str | None = None,
        browser: str | None = None,
    ) -> Redeemed | None:
        """Turn a ticket into a new session (ending the browser's earlier one); None if invalid.

        With `browser` (the cookie routes always pass it), only a ticket bound to that browser
        cookie counts; a ticket of another browser is refused, left as it was, and logged.
        Without it, only a ticket bound to no browser (one issued without `browser`).
        """
        if not isinstance(ticket, str) or not 20 <= len(ticket) <= 100:
            return None
        now = self._now()
        bound = (
            col(LoginTicket.browser_hash) == hash_token(browser)
            if browser is not None
            else col(LoginTicket.browser_hash).is_(None)
        )
        live = (
            col(LoginTicket.ticket_hash) == hash_token(ticket),
            col(LoginTicket.used_at).is_(None),
            col(LoginTicket.expires_at) > now,
        )
        with self.db() as db:
            record = db.exec(
                update(LoginTicket)
                .where(*live, bound)
                .values(used_at=now)
                .returning(
                    col(LoginTicket.user_id), col(LoginTicket.remember_device), col(LoginTicket.landing)
                )
            ).first()
            db.commit()
            if record is None:
                other = db.exec(select(LoginTicket.user_id).where(*live)).first()
                if other is not None:
                    log.event("ticket_other_browser", logging.WARNING, user_id=other, ip=ip)
                return None
        if previous_token:
            self.end(previous_token)
        token = self.create_session(record.user_id, ip, user_agent)
        device = self._remember_device(record.user_id, user_agent, ip) if record.remember_device else None
        return Redeemed(record.user_id, token, device, record.landing)

    def create_session(self, user_id: int, ip: str, user_agent: str, db: Connection | None = None) -> str:
        """A new session for a user whose whole login succeeded; returns its token.

        Given `db`, the session is written in the caller's transaction.
        """
        token = new_token()
        now = self._now()
        with self._unit(db) as unit:
            unit.execute(
                insert(AuthSession.__table__).values(  # type: ignore[attr-defined]
                    token_hash=hash_token(token),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.settings.accounts.session_absolute_hours),
                    ip=ip[:64],
                    user_agent=user_agent[:255],
                )
            )
        log.event("session_started", user_id=user_id, ip=ip)
        return token

    def authenticate(self, token: object) -> User | None:
        """The user of a live session, refreshing its idle timer; None otherwise."""
        if not isinstance(token, str) or not token or len(token) > 100:
            return None
        now = self._now()
        with self.db() as db:
            user_id = db.exec(
                update(AuthSession)
                .where(col(AuthSession.token_hash) == hash_token(token))
                .where(*self._live_session(now))
                .values(last_seen_at=now)
                .returning(col(AuthSession.user_id))
            ).scalar()
            db.commit()
            return db.get(User, user_id) if user_id is not None else None

    def end(self, token: object) -> None:
        """End one session (log out), with its `logout` event."""
        if isinstance(token, str) and token:
            with self.db() as db:
                ended = db.exec(
                    update(AuthSession)
                    .where(col(AuthSession.token_hash) == hash_token(token))
                    .where(col(AuthSession.revoked_at).is_(None))
                    .values(revoked_at=self._now())
                    .returning(col(AuthSession.user_id), col(AuthSession.ip))
                ).first()
                if ended is not None:
                    self._audit.record(db, AuditKind.LOGOUT, user_id=ended.user_id, address=ended.ip)
                db.commit()

    def end_all(self, user_id: int, keep_token: str | None = None, db: Connection | None = None) -> int:
        """End every session of a user (but `keep_token`'s), in `db`'s transaction when given;
        returns how many."""
        statement = (
            update(AuthSession)
            .where(col(AuthSession.user_id) == user_id)
            .where(col(AuthSession.revoked_at).is_(None))
        )
        if keep_token:
            statement = statement.where(col(AuthSession.token_hash) != hash_token(keep_token))
        with self._unit(db) as unit:
            ended = unit.execute(statement.values(revoked_at=self._now())).rowcount
            if ended:
                which = "others" if keep_token else "all"
                self._audit.record(
                    unit, AuditKind.LOGOUT, user_id=user_id, outcome=which, detail=f"{ended} sessions"
                )
        log.event("sessions_ended", user_id=user_id, count=ended)
        return ended

    def list_sessions(self, user_id: int, current_token: str | None) -> list[SessionInfo]:
        """A user's live sessions, newest first."""
        now = self._now()
        current = hash_token(current_token) if current_token else ""
        with self.db() as db:
            rows = db.exec(
                select(AuthSession)
                .where(AuthSession.user_id == user_id)
                .where(*self._live_session(now))
                .order_by(col(AuthSession.created_at).desc())
            ).all()
        return [
            SessionInfo(r.id or 0, r.created_at, r.last_seen_at, r.ip, r.user_agent, r.token_hash == current)
            for r in rows
        ]

    def device_trusted(self, user_id: int, device_token: object) -> bool:
        """Whether this browser's remembered-device token is live for this user."""
        if not isinstance(device_token, str) or not device_token or len(device_token) > 100:
            return False
        with self.db() as db:
            row = db.exec(
                select(TrustedDevice)
                .where(TrustedDevice.token_hash == hash_token(device_token))
                .where(TrustedDevice.user_id == user_id)
                .where(*self._live_device())
            ).first()
        return row is not None

    def list_devices(self, user_id: int) -> list[DeviceInfo]:
        """A user's remembered devices, newest first."""
        with self.db() as db:
            rows = db.exec(
                select(TrustedDevice)
                .where(TrustedDevice.user_id == user_id)
                .where(*self._live_device())
                .order_by(col(TrustedDevice.created_at).desc())
            ).all()
        return [DeviceInfo(r.id or 0, r.label, r.created_at, r.expires_at) for r in rows]

    def revoke_device(self, user_id: int, device_id: int) -> bool:
        """Forget one of the user's own devices."""
        return self._revoke_devices(user_id, device_id) == 1

    def revoke_devices(self, user_id: int, db: Connection | None = None) -> int:
        """Forget every device of a user (password, phone or 2FA changed), in `db`'s
        transaction when given."""
        return self._revoke_devices(user_id, None, db)

    def _live_session(self, now: datetime) -> tuple[ColumnElement[bool], ...]:
        """A session is live while not revoked, not past its absolute or idle timeout."""
        idle_cutoff = now - timedelta(minutes=self.settings.accounts.session_idle_minutes)
        return (
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
            col(AuthSession.last_seen_at) > idle_cutoff,
        )

    def _live_device(self) -> tuple[ColumnElement[bool], ...]:
        """A remembered device counts while not revoked and not expired."""
        return col(TrustedDevice.revoked_at).is_(None), col(TrustedDevice.expires_at) > self._now()

    def _revoke_devices(self, user_id: int, device_id: int | None, db: Connection | None = None) -> int:
        statement = (
            update(TrustedDevice)
            .where(col(TrustedDevice.user_id) == user_id)
            .where(col(TrustedDevice.revoked_at).is_(None))
        )
        if device_id is not None:
            statement = statement.where(col(TrustedDevice.id) == device_id)
        with self._unit(db) as unit:
            revoked = unit.execute(statement.values(revoked_at=self._now())).rowcount
            if revoked:
                which = "all" if device_id is None else "one"
                self._audit.record(
                    unit,
                    AuditKind.DEVICE_REVOKED,
                    user_id=user_id,
                    outcome=which,
                    detail=f"{revoked} devices",
                )
        return revoked

    @contextmanager
    def _unit(self, db: Connection | None) -> Iterator[Connection]:
        """The caller's transaction, or one of our own committed on success."""
        if db is not None:
            yield db
            return
        with transaction(self._db_url) as own:
            yield own

    def _remember_device(self, user_id: int, user_agent: str, ip: str) -> str:
        token = new_token()
        now = self._now()
        label = device_name(user_agent)
        with self.db() as db:
            db.add(
                TrustedDevice(
                    user_id=user_id,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=now,
                    expires_at=now + timedelta(days=self.settings.accounts.remember_device_days),
                )
            )
            self._audit.record(db, AuditKind.DEVICE_REMEMBERED, user_id=user_id, address=ip, detail=label)
            db.commit()
        return token
