"""The verification table's statements, built once in SQLAlchemy Core.

These run on every send and every code check, so they skip the ORM: each is
a prebuilt statement with bound parameters, executed on a Core connection
(`db.transaction`). The conditional UPDATEs are what make single use and the
attempt cap hold under concurrency: the row count (or the returned row) decides.
`RETURNING` works on SQLite (3.35+) and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from ..models import Verification

_table = Verification.__table__  # type: ignore[attr-defined]
_c = _table.c

_GET = select(_table).where(_c.id == bindparam("id"))

_LOCKED_UNTIL = select(func.max(_c.expires_at)).where(
    _c.phone == bindparam("phone"), _c.status == "failed", _c.expires_at > bindparam("now")
)

_SUPERSEDE = (
    update(_table)
    .where(
        _c.phone == bindparam("b_phone"),
        _c.purpose == bindparam("b_purpose"),
        _c.user_id.is_not_distinct_from(bindparam("b_user_id")),
        _c.status == "pending",
    )
    .values(status="superseded")
)

# Plivo re-delivers the same code while its session is live, so the wrong guesses
# already made against that code carry over to the new row (BF-01).
_INSERT_CARRYING_ATTEMPTS = insert(_table).values(
    attempts=select(func.coalesce(func.max(_c.attempts), 0))
    .where(_c.provider_session_id == bindparam("b_session_id"))
    .scalar_subquery()
)

# The columns a caller may bind to: id, purpose and user are all part of the match.
_CLAIM_ATTEMPT = (
    update(_table)
    .where(
        _c.id == bindparam("b_id"),
        _c.purpose == bindparam("b_purpose"),
        _c.user_id.is_not_distinct_from(bindparam("b_user_id")),
        _c.status == "pending",
        _c.attempts < _c.max_attempts,
        _c.expires_at > bindparam("b_now"),
    )
    .values(attempts=_c.attempts + 1)
    .returning(*_table.c)
)

_REFUND = update(_table).where(_c.id == bindparam("b_id"), _c.attempts > 0).values(attempts=_c.attempts - 1)

_CLAIM_RESEND = (
    update(_table)
    .where(
        _c.id == bindparam("b_id"),
        _c.status == "pending",
        _c.next_send_at <= bindparam("b_now"),
    )
    .values(
        sends=_c.sends + 1,
        next_send_at=bindparam("b_next_send_at"),
        channel=bindparam("b_channel"),
    )
)

_CLOSE = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.status == "pending")
    .values(status=bindparam("b_status"))
)

_MARK_VERIFIED = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.status == "pending")
    .values(status="verified", verified_at=bindparam("b_at"))
)

_SET_PROVIDER_SESSION = (
    update(_table)
    .where(_c.id == bindparam("b_id"))
    .values(provider_session_id=bindparam("b_session_id"))
    .returning(*_table.c)
)


def get(db: Connection, verification_id: str) -> Row[Any] | None:
    """The verification row, or None."""
    return db.execute(_GET, {"id": verification_id}).first()


def locked_until(db: Connection, phone: str, now: datetime) -> datetime | None:
    """The latest expiry of a live code for `phone` that used up its attempts."""
    return db.execute(_LOCKED_UNTIL, {"phone": phone, "now": now}).scalar()


def add_superseding(db: Connection, values: dict[str, Any]) -> None:
    """Insert a new verification, superseding the pending ones for the same number,
    purpose and user; the attempts already spent on the same provider session carry over."""
    db.execute(
        _SUPERSEDE,
        {"b_phone": values["phone"], "b_purpose": values["purpose"], "b_user_id": values["user_id"]},
    )
    db.execute(_INSERT_CARRYING_ATTEMPTS, {**values, "b_session_id": values["provider_session_id"]})


def claim_attempt(
    db: Connection, verification_id: str, purpose: str, user_id: int | None, now: datetime
) -> Row[Any] | None:
    """Count one attempt on a live verification of this purpose and user; the row after
    the count, or None when it is unknown, closed, used up or expired."""
    params = {"b_id": verification_id, "b_purpose": purpose, "b_user_id": user_id, "b_now": now}
    return db.execute(_CLAIM_ATTEMPT, params).first()


def refund_attempt(db: Connection, verification_id: str) -> None:
    """Give back one attempt."""
    db.execute(_REFUND, {"b_id": verification_id})


def close(db: Connection, verification_id: str, status: str) -> bool:
    """Move a pending verification to a final `status`; False if it was no longer pending."""
    return db.execute(_CLOSE, {"b_id": verification_id, "b_status": status}).rowcount == 1


def mark_verified(db: Connection, verification_id: str, at: datetime) -> bool:
    """Mark a pending verification verified; False if it was no longer pending (used once)."""
    return db.execute(_MARK_VERIFIED, {"b_id": verification_id, "b_at": at}).rowcount == 1


def claim_resend(
    db: Connection, verification_id: str, channel: str, now: datetime, next_send_at: datetime
) -> bool:
    """Take the next send slot of a pending verification whose cooldown is over."""
    params = {"b_id": verification_id, "b_now": now, "b_next_send_at": next_send_at, "b_channel": channel}
    return db.execute(_CLAIM_RESEND, params).rowcount == 1


def set_provider_session(db: Connection, verification_id: str, session_id: str) -> Row[Any] | None:
    """Record the provider session a (re)send answered with; the updated row."""
    return db.execute(_SET_PROVIDER_SESSION, {"b_id": verification_id, "b_session_id": session_id}).first()
