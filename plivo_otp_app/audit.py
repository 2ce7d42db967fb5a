"""The audit trail: one row per security-relevant event (`models.AuditEvent`).

`Audit.record` adds the row on the caller's connection or session, so it commits or rolls
back with what it records: a send that failed leaves no "sent" row, a refusal written in
its own transaction leaves its own. A number is stored masked and as a keyed hash of its
E.164 (HMAC-SHA-256 with `AUDIT_HASH_KEY`, else the installation's random key, made once
in `otp_audit_key`), which groups one number's events without keeping the number twice.
Nothing secret is ever recorded: no code, token, password or provider credential.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import phonenumbers
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from .config import AuditSettings
from .db import transaction
from .models import AuditEvent, AuditKey
from .phone import mask

_events = AuditEvent.__table__  # type: ignore[attr-defined]
_keys = AuditKey.__table__  # type: ignore[attr-defined]
#: Built once: a statement built per call costs more than the insert itself.
_INSERT = insert(_events)


class AuditKind(enum.StrEnum):
    """What an event records (`AuditEvent.kind`)."""

    SEND_REQUESTED = "send_requested"
    SEND_SENT = "send_sent"
    #: The provider refused the send or did not answer (`error_code`); a timeout's may have gone.
    SEND_FAILED = "send_failed"
    #: Refused by the pumping and cost policy (`outcome` names the rule, for operators only).
    SEND_BLOCKED = "send_blocked"
    #: Refused by a rate limit.
    SEND_LIMITED = "send_limited"
    SEND_CHALLENGED = "send_challenged"
    CODE_VERIFIED = "code_verified"
    CODE_FAILED = "code_failed"
    LOCKOUT = "lockout"
    LOGIN = "login"
    LOGOUT = "logout"
    TWO_FACTOR_ON = "two_factor_on"
    TWO_FACTOR_OFF = "two_factor_off"
    PHONE_CHANGED = "phone_changed"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event's name, not a password
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated"
    DEVICE_REMEMBERED = "device_remembered"
    DEVICE_REVOKED = "device_revoked"
    #: A provider's delivery report for one attempt (`outcome`: its status).
    DELIVERY_STATUS = "delivery_status"
    #: A code re-sent by another channel after the first was not delivered.
    CHANNEL_FALLBACK = "channel_fallback"
    ADMIN_ACTION = "admin_action"
    BUDGET_TRIPPED = "budget_tripped"
    GROUP_FLAGGED = "group_flagged"


def range_key(e164: str) -> str:
    """The number's range: its E.164 without the last 4 digits (the pumping watch's narrowest group)."""
    return e164[:-4]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _region(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


@functools.lru_cache(maxsize=4096)
def _number(e164: str) -> tuple[str, str, str]:
    """What a row keeps of a number in clear: masked, its country, its range. Each is a parse
    (the country one of every region of a shared code: +1 has 25), and a send's events name
    the same number one after the other, so the latest few thousand are kept."""
    return mask(e164), _region(e164), range_key(e164)


class Audit:
    """Writes and purges the audit trail of one database."""

    def __init__(
        self, settings: AuditSettings, db_url: str | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings
        self.db_url = db_url
        self.clock = clock or _utcnow
        self._key = settings.hash_key.encode() if settings.hash_key else b""

    def record(
        self,
        db: Connection | Session,
        kind: AuditKind,
        *,
        phone: str = "",
        user_id: int | None = None,
        channel: str = "",
        address: str = "",
        provider_session_id: str = "",
        outcome: str = "",
        error_code: str = "",
        cost: int = 0,
        detail: str = "",
    ) -> None:
        """Add one event on `db` (a Core connection or an ORM session): it commits with the caller's work.

        `phone` is an E.164 number (stored masked and hashed, with its country and range);
        `cost` is in millionths; `detail` is a short operator-facing note, never a secret.
        """
        connection = db.connection() if isinstance(db, Session) else db
        masked, country, number_range = _number(phone) if phone else ("", "", "")
        connection.execute(
            _INSERT,
            {
                "at": self.clock(),
                "kind": str(kind),
                "user_id": user_id,
                "phone_masked": masked,
                "phone_hash": self.phone_hash(connection, phone) if phone else "",
                "country": country,
                "range_key": number_range,
                "channel": channel[:8],
                "address": address[:64],
                "provider_session_id": provider_session_id[:64],
                "outcome": outcome[:32],
                "error_code": error_code[:48],
                "cost": cost,
                "detail": detail[:255],
            },
        )

    def phone_hash(self, connection: Connection, e164: str) -> str:
        """The keyed hash that stands for `e164` in the trail (hex, 64 characters)."""
        return hmac.new(self._hash_key(connection), e164.encode(), hashlib.sha256).hexdigest()

    def _hash_key(self, connection: Connection) -> bytes:
        """The configured key, else the installation's: read, or made by the first writer."""
        if not self._key:
            row = connection.execute(select(_keys.c.key).where(_keys.c.id == 1)).scalar()
            if row is None:
                dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
                made = dialect.insert(_keys).values(id=1, key=secrets.token_hex(32))
                connection.execute(made.on_conflict_do_nothing(index_elements=[_keys.c.id]))
                row = connection.execute(select(_keys.c.key).where(_keys.c.id == 1)).scalar_one()
            self._key = bytes.fromhex(row)
        return self._key

    def purge(self) -> int:
        """Delete the events older than the retention; returns how many went."""
        cutoff = self.clock() - timedelta(days=self.settings.retention_days)
        with transaction(self.db_url) as connection:
            return connection.execute(delete(_events).where(_events.c.at < cutoff)).rowcount
