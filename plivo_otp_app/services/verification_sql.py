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

The wrong-guess cap belongs to the delivered code (`ProviderCode`, one row per
provider session), not to one flow: Plivo re-delivers the same code to a
recipient while its session lives, to every flow, purpose and user alike.
`claim_attempt` counts a guess on the code in the transaction that also holds
the flow's row; every transaction here that takes both takes the flow's row
first, so none waits on another crosswise.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..enums import Status
from ..models import ProviderCode, Verification

_table = Verification.__table__  # type: ignore[attr-defined]
_c = _table.c
_codes = ProviderCode.__table__  # type: ignore[attr-defined]
_k = _codes.c

_GET = select(_table).where(_c.id == bindparam("id"))

# Matches no row (ids are uuids), but is still a write: a read-only database refuses it.
_PROBE_WRITE = update(_table).where(_c.id == "").values(status=_c.status)

_LOCKED_UNTIL = select(func.max(_k.expires_at)).where(
    _k.phone == bindparam("phone"), _k.attempts >= _k.max_attempts, _k.expires_at > bindparam("now")
)
# A code's flows are the verifications sent its provider session: with a second Verify
# application an owner's codes are other sessions than anyone else's to the number.
_LOCKED_UNTIL_AMONG = _LOCKED_UNTIL.where(
    exists().where(
        _c.provider_session_id == _k.provider_session_id,
        _c.purpose.in_(bindparam("purposes", expanding=True)),
    )
)
_LOCKED_UNTIL_OUTSIDE = _LOCKED_UNTIL.where(
    exists().where(
        _c.provider_session_id == _k.provider_session_id,
        _c.purpose.not_in(bindparam("purposes", expanding=True)),
    )
)

_SUPERSEDE = (
    update(_table)
    .where(
        _c.phone == bindparam("b_phone"),
        _c.purpose == bindparam("b_purpose"),
        _c.user_id.is_not_distinct_from(bindparam("b_user_id")),
        _c.status == Status.PENDING,
    )
    .values(status=Status.SUPERSEDED)
)

_INSERT = insert(_table)

# Plivo re-delivers the same code while its session is live, so the flow starts with
# the wrong guesses already made against that code, by any flow (BF-01).
_SETTLE_SEND = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.status == Status.SENDING)
    .values(
        status=Status.PENDING,
        provider_session_id=bindparam("b_session_id"),
        attempts=select(_k.attempts)
        .where(_k.provider_session_id == bindparam("b_session_id"))
        .scalar_subquery(),
    )
)

_CODE_VALUES = {
    "provider_session_id": bindparam("b_session_id"),
    "phone": bindparam("b_phone"),
    "attempts": bindparam("b_attempts"),
    "max_attempts": bindparam("b_max_attempts"),
    "created_at": bindparam("b_created_at"),
    "expires_at": bindparam("b_expires_at"),
}
# A session already known (a repeat send within its life) keeps its row and its count.
# RETURNING tells whether the row was new: psycopg gives no row count (-1) for this statement.
_ADD_CODE = {
    "postgresql": postgresql.insert(_codes)
    .values(_CODE_VALUES)
    .on_conflict_do_nothing()
    .returning(_k.provider_session_id),
    "sqlite": sqlite.insert(_codes)
    .values(_CODE_VALUES)
    .on_conflict_do_nothing()
    .returning(_k.provider_session_id),
}

_DISCARD = delete(_table).where(_c.id == bindparam("b_id"), _c.status == Status.SENDING)

# The columns a caller may bind to: id, purpose and user are all part of the match.
# A no-op write: it finds the live flow and holds its row for the rest of the claim.
_HOLD_OPEN_FLOW = (
    update(_table)
    .where(
        _c.id == bindparam("b_id"),
        _c.purpose == bindparam("b_purpose"),
        _c.user_id.is_not_distinct_from(bindparam("b_user_id")),
        _c.status == Status.PENDING,
        _c.attempts < _c.max_attempts,
        _c.expires_at > bindparam("b_now"),
    )
    .values(attempts=_c.attempts)
    .returning(*_table.c)
)

_CLAIM_CODE_ATTEMPT = (
    update(_codes)
    .where(_k.provider_session_id == bindparam("b_session_id"), _k.attempts < _k.max_attempts)
    .values(attempts=_k.attempts + 1)
    .returning(_k.attempts)
)

# A flow shows its code's count: every guess at that code, whichever flow made it.
_SET_ATTEMPTS = (
    update(_table)
    .where(_c.id == bindparam("b_id"))
    .values(attempts=bindparam("b_attempts"))
    .returning(*_table.c)
)

_REFUND = update(_table).where(_c.id == bindparam("b_id"), _c.attempts > 0).values(attempts=_c.attempts - 1)
_REFUND_CODE = (
    update(_codes)
    .where(
        _k.provider_session_id
        == select(_c.provider_session_id).where(_c.id == bindparam("b_id")).scalar_subquery(),
        _k.attempts > 0,
    )
    .values(attempts=_k.attempts - 1)
)

_CLAIM_RESEND = (
    update(_table)
    .where(
        _c.id == bindparam("b_id"),
        _c.status == Status.PENDING,
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
    .where(_c.id == bindparam("b_id"), _c.status == Status.PENDING)
    .values(status=bindparam("b_status"))
)

_MARK_VERIFIED = (
    update(_table)
    .where(_c.id == bindparam("b_id"), _c.status == Status.PENDING)
    .values(status=Status.VERIFIED, verified_at=bindparam("b_at"))
)

_END_CODE = (
    update(_codes)
    .where(
        _k.provider_session_id
        == select(_c.provider_session_id).where(_c.id == bindparam("b_id")).scalar_subquery()
    )
    .values(expires_at=bindparam("b_at"))
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
    db.execute(_INSERT, {**values, "status": Status.SENDING, "provider_session_id": ""})


def settle_send(db: Connection, values: dict[str, Any], session_id: str) -> None:
    """Make a reserved send the number's live flow once the provider has sent it: supersede
    the pending ones for the same number, purpose and user, record the provider session (a
    code of its own the first time it is seen) and start from the attempts already spent on it.

    A concurrent start for the same number, purpose and user that went pending after this
    one's supersede makes the last statement fail the one-pending index (IntegrityError);
    the caller runs this again, and the rerun supersedes that one.
    """
    db.execute(
        _SUPERSEDE,
        {"b_phone": values["phone"], "b_purpose": values["purpose"], "b_user_id": values["user_id"]},
    )
    code = {key: values[key] for key in ("phone", "max_attempts", "created_at", "expires_at")}
    _add_code(db, session_id, attempts=0, **code)
    db.execute(_SETTLE_SEND, {"b_id": values["id"], "b_session_id": session_id})


def _add_code(
    db: Connection,
    session_id: str,
    *,
    phone: str,
    attempts: int,
    max_attempts: int,
    created_at: datetime,
    expires_at: datetime,
) -> bool:
    """Record a provider session not seen before; False when it is known already."""
    params = {
        "b_session_id": session_id,
        "b_phone": phone,
        "b_attempts": attempts,
        "b_max_attempts": max_attempts,
        "b_created_at": created_at,
        "b_expires_at": expires_at,
    }
    return db.execute(_ADD_CODE[db.dialect.name], params).first() is not None


def discard(db: Connection, verification_id: str) -> None:
    """Drop a reserved send the provider did not make."""
    db.execute(_DISCARD, {"b_id": verification_id})


def claim_attempt(
    db: Connection, verification_id: str, purpose: str, user_id: int | None, now: datetime
) -> Row[Any] | None:
    """Count one attempt on a live verification of this purpose and user, and on the code it
    was sent; the row after the count, or None when it is unknown, closed, expired, or its
    code has used up its attempts (by this flow or any other). Run in one transaction."""
    params = {"b_id": verification_id, "b_purpose": purpose, "b_user_id": user_id, "b_now": now}
    flow = db.execute(_HOLD_OPEN_FLOW, params).first()
    if flow is None:
        return None
    session = {"b_session_id": flow.provider_session_id}
    attempts = db.execute(_CLAIM_CODE_ATTEMPT, session).scalar()
    # A flow older than the code table, or resent into a new provider session: its code
    # is recorded now, with the flow's own count as the start.
    if attempts is None and _add_code(
        db,
        flow.provider_session_id,
        phone=flow.phone,
        attempts=flow.attempts,
        max_attempts=flow.max_attempts,
        created_at=now,
        expires_at=flow.expires_at,
    ):
        attempts = db.execute(_CLAIM_CODE_ATTEMPT, session).scalar()
    if attempts is None:
        db.execute(_SET_ATTEMPTS, {"b_id": flow.id, "b_attempts": flow.max_attempts})
        return None
    return db.execute(_SET_ATTEMPTS, {"b_id": flow.id, "b_attempts": attempts}).first()


def refund_attempt(db: Connection, verification_id: str) -> None:
    """Give back one attempt, on the flow and on its code."""
    db.execute(_REFUND, {"b_id": verification_id})
    db.execute(_REFUND_CODE, {"b_id": verification_id})


def close(db: Connection, verification_id: str, status: Status) -> bool:
    """Move a pending verification to a final `status`; False if it was no longer pending."""
    return db.execute(_CLOSE, {"b_id": verification_id, "b_status": status}).rowcount == 1


def mark_verified(db: Connection, verification_id: str, at: datetime) -> bool:
    """Mark a pending verification verified; False if it was no longer pending (used once).

    Its code's life ends there: the provider never delivers a verified session's code
    again, so the code no longer blocks new sends however many guesses it took."""
    if db.execute(_MARK_VERIFIED, {"b_id": verification_id, "b_at": at}).rowcount != 1:
        return False
    db.execute(_END_CODE, {"b_id": verification_id, "b_at": at})
    return True


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
