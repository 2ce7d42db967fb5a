"""The verification table's statements, built once in SQLAlchemy Core.

These run on every send and every code check, so they skip the ORM: each is
a prebuilt statement with bound parameters, executed on a Core connection
(`db.transaction`). The conditional UPDATEs are what make single use and the
attempt cap hold under concurrency: the row count (or the returned row) decides.
`RETURNING` works on SQLite (3.35+) and PostgreSQL alike.

A send is recorded before the provider is called: `reserve` inserts the row as
`sending` (no provider session yet), which no statement here claims, counts or
supersedes; `settle_send` makes it the number's one `pending` flow once the
provider has answered, and `discard` removes it when the provider refused.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from ..models import Verification

_table = Verification.__table__  # type: ignore[attr-defined]
_c = _table.c

_GET = select(_table).where(_c.id == bindparam("id"))

# Matches no row (ids are uuids), but is still a write: a read-only database refuses it.
_PROBE_WRITE = update(_table).where(_c.id == "").values(status=_c.status)

_LOCKED_UNTIL = select(func.max(_c.expires_at)).where(
    _c.phone == bindparam("phone"), _c.status == "failed", _c.expires_at > bindparam("now")
)
_LOCKED_UNTIL_AMONG = _LOCKED_UNTIL.where(_c.purpose.in_(bindparam("purposes", expanding=True)))
_LOCKED_UNTIL_OUTSIDE = _LOCKED_UNTIL.where(_c.purpose.not_in(bindparam("purposes", expanding=True)))

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

_INSERT = insert(_table)

_other = _table.alias("other")
# Plivo re-delivers the same code while its session is live, so the wrong guesses
# already made against that code carry over to the new row (BF-01).
_SETTLE_SEND = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.status == "sending")
    .values(
        status="pending",
        provider_session_id=bindparam("b_session_id"),
        attempts=select(func.coalesce(func.max(_other.c.attempts), 0))
        .where(_other.c.provider_session_id == bindparam("b_session_id"))
        .scalar_subquery(),
    )
)

_DISCARD = delete(_table).where(_c.id == bindparam("b_id"), _c.status == "sending")

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

# Matched on the claimed count, so only the claim being given back is undone.
_GIVE_BACK_RESEND = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.sends == bindparam("b_sends"))
    .values(sends=_c.sends - 1, next_send_at=bindparam("b_next_send_at"), channel=bindparam("b_channel"))
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


def probe_write(db: Connection) -> None:
    """Raise unless the database takes a write; changes nothing."""
    db.execute(_PROBE_WRITE)


def locked_until(
    db: Connection,
    phone: str,
    now: datetime,
    purposes: Collection[str] | None = None,
    among: bool = True,
) -> datetime | None:
    """The latest expiry of a live code for `phone` that used up its attempts: of any
    purpose, or only of flows whose purpose is (`among`) or is not in `purposes`."""
    params = {"phone": phone, "now": now}
    if purposes is None:
        return db.execute(_LOCKED_UNTIL, params).scalar()
    statement = _LOCKED_UNTIL_AMONG if among else _LOCKED_UNTIL_OUTSIDE
    return db.execute(statement, {**params, "purposes": sorted(purposes)}).scalar()


def reserve(db: Connection, values: dict[str, Any]) -> None:
    """Record a send about to be made: the row, as `sending`, before any provider call."""
    db.execute(_INSERT, {**values, "status": "sending", "provider_session_id": ""})


def settle_send(db: Connection, values: dict[str, Any], session_id: str) -> None:
    """Make a reserved send the number's live flow once the provider has sent it: supersede
    the pending ones for the same number, purpose and user, record the provider session and
    carry over the attempts already spent on it."""
    db.execute(
        _SUPERSEDE,
        {"b_phone": values["phone"], "b_purpose": values["purpose"], "b_user_id": values["user_id"]},
    )
    db.execute(_SETTLE_SEND, {"b_id": values["id"], "b_session_id": session_id})


def discard(db: Connection, verification_id: str) -> None:
    """Drop a reserved send the provider did not make."""
    db.execute(_DISCARD, {"b_id": verification_id})


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


def give_back_resend(
    db: Connection, verification_id: str, claimed_sends: int, next_send_at: datetime, channel: str
) -> None:
    """Undo the resend claim that raised the count to `claimed_sends`: the count, the
    cooldown and the channel go back to what they were before it."""
    params = {
        "b_id": verification_id,
        "b_sends": claimed_sends,
        "b_next_send_at": next_send_at,
        "b_channel": channel,
    }
    db.execute(_GIVE_BACK_RESEND, params)
