"""The operator dashboard's rules: who is an operator, what the audit trail adds up to, and
the operator's actions (lift or extend a flagged group's block, unlock an account).

Every figure is aggregated in SQL over `otp_audit_event` for one date range (the page
receives a few dozen rows, however many events there are); the flagged groups come from
the send tally's "flagged" counts (`pumping.py`) and the operators' own flags
(`otp_group_flag`). Every method that reads or changes anything takes the acting user and
refuses anyone whose role is not "admin" (`NotAdmin`), so no caller can forget the check.
Every action writes its `AuditKind.ADMIN_ACTION` row in the transaction of the change.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, case, cast, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..audit import Audit, AuditKind
from ..config import Settings
from ..db import transaction
from ..errors import InvalidInput, NotAdmin
from ..messages import DATE_RANGE_INVALID, GROUP_INVALID, verify_time_bucket
from ..models import AuditEvent, GroupFlag, SendTally, User
from ..pumping import MICROS, WIDTHS
from ..usernames import canonical
from .verification import utcnow

ADMIN = "admin"
#: The longest range the dashboard sums (the audit trail keeps `AUDIT_RETENTION_DAYS` at most).
MAX_RANGE = timedelta(days=366)
#: Ranges up to this long are charted by the hour, longer ones by the day.
HOURLY_UP_TO = timedelta(days=2)
#: How many rows a table or a "by country/group" chart shows at most.
TOP = 12
EVENTS_SHOWN = 50
#: How long a lift or an extension lasts, in hours, at most (a week).
MAX_FLAG_HOURS = 168
#: The send-to-verify histogram's upper bounds in seconds (the last bucket is open).
VERIFY_BUCKETS = (30, 60, 120, 300, 600)

_e = AuditEvent.__table__  # type: ignore[attr-defined]
_f = GroupFlag.__table__  # type: ignore[attr-defined]
_t = SendTally.__table__  # type: ignore[attr-defined]
_u = User.__table__  # type: ignore[attr-defined]

_SENT = str(AuditKind.SEND_SENT)
_VERIFIED = str(AuditKind.CODE_VERIFIED)
_REFUSED = (str(AuditKind.SEND_BLOCKED), str(AuditKind.SEND_LIMITED), str(AuditKind.SEND_CHALLENGED))


@dataclass(frozen=True)
class Range:
    """A date range: `since` included, `until` excluded (aware UTC)."""

    since: datetime
    until: datetime

    @property
    def hourly(self) -> bool:
        """Charted by the hour (a short range) rather than by the day."""
        return self.until - self.since <= HOURLY_UP_TO


@dataclass(frozen=True)
class EventFilter:
    """The `#audit-events` table's filters; "" is no filter."""

    kind: str = ""
    country: str = ""
    outcome: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Dashboard:
    """What the charts show for one range; money in the price table's currency."""

    totals: dict[str, float]
    over_time: list[dict[str, Any]]
    by_country: list[dict[str, Any]]
    by_group: list[dict[str, Any]]
    refusals: list[dict[str, Any]]
    spend: list[dict[str, Any]]
    budget: float
    delivery: list[dict[str, Any]]
    verify_times: list[dict[str, Any]]
    median_seconds: float | None


@dataclass(frozen=True)
class FlaggedGroup:
    """A watched group with refusals in the range, or with an operator's flag still on."""

    scope: str
    key: str
    refused: int
    action: str
    until: datetime | None


@dataclass(frozen=True)
class LockedUser:
    """An account whose SMS factor is locked now."""

    id: int
    username: str
    failures: int
    until: datetime | None


def is_admin(user: User | None) -> bool:
    """Whether `user` is an operator."""
    return user is not None and user.id is not None and user.role == ADMIN


def check_range(since: object, until: object) -> Range:
    """A range from two aware datetimes, checked (ordered, at most `MAX_RANGE`).

    Raises:
        InvalidInput: Not datetimes, reversed or too long.
    """
    if not isinstance(since, datetime) or not isinstance(until, datetime) or since.tzinfo is None:
        raise InvalidInput(DATE_RANGE_INVALID)
    if not since < until or until - since > MAX_RANGE:
        raise InvalidInput(DATE_RANGE_INVALID)
    return Range(since, until)


class AdminService:
    """The dashboard's queries and actions on one database."""

    def __init__(
        self,
        settings: Settings,
        audit: Audit,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._audit = audit
        self._db_url = db_url
        self._now = clock

    # -- authorisation -------------------------------------------------------------------

    @staticmethod
    def _check(actor: User | None) -> int:
        if not is_admin(actor):
            raise NotAdmin("not an operator")
        assert actor is not None and actor.id is not None  # `is_admin` checked both
        return actor.id

    # -- the charts ----------------------------------------------------------------------

    def dashboard(self, actor: User | None, span: Range) -> Dashboard:
        """Every chart of the page for `span`, each one aggregate query."""
        self._check(actor)
        with transaction(self._db_url) as db:
            over_time = self._over_time(db, span)
            by_country = self._by_country(db, span)
            refusals = self._refusals(db, span)
            delivery = self._delivery(db, span)
            verify_times, median = self._verify_times(db, span)
            by_group = self._by_group(db, span)
        sent = sum(int(row["sent"]) for row in over_time)
        verified = sum(int(row["verified"]) for row in over_time)
        refused = sum(int(row["count"]) for row in refusals)
        spent = sum(float(row["spend"]) for row in over_time)
        pumping = self._settings.pumping
        return Dashboard(
            totals={
                "sent": sent,
                "verified": verified,
                "conversion": round(100 * verified / sent, 1) if sent else 0.0,
                "refused": refused,
                "spend": round(spent, 2),
            },
            over_time=over_time,
            by_country=by_country,
            by_group=by_group,
            refusals=refusals,
            spend=[{"bucket": row["bucket"], "spend": row["spend"]} for row in over_time],
            budget=pumping.hourly_budget if span.hourly else pumping.daily_budget,
            delivery=delivery,
            verify_times=verify_times,
            median_seconds=median,
        )

    def _in(self, span: Range) -> ColumnElement[bool]:
        return and_(_e.c.at >= span.since, _e.c.at < span.until)

    @staticmethod
    def _bucket(db: Connection, hourly: bool) -> ColumnElement[str]:
        """An event's hour or day as text ("2026-12-01 14:00" / "2026-12-01"), in SQL."""
        if db.dialect.name == "postgresql":
            shape = "YYYY-MM-DD HH24:00" if hourly else "YYYY-MM-DD"
            return func.to_char(func.timezone("UTC", _e.c.at), shape)
        # SQLite keeps the time as ISO text ("2026-12-01 14:05:09.000000"): its head is the bucket.
        return func.substr(_e.c.at, 1, 13).concat(":00") if hourly else func.substr(_e.c.at, 1, 10)

    def _over_time(self, db: Connection, span: Range) -> list[dict[str, Any]]:
        bucket = self._bucket(db, span.hourly).label("bucket")
        rows = db.execute(
            select(
                bucket,
                func.sum(case((_e.c.kind == _SENT, 1), else_=0)).label("sent"),
                func.sum(case((_e.c.kind == _VERIFIED, 1), else_=0)).label("verified"),
                func.sum(case((_e.c.kind.in_(_REFUSED), 1), else_=0)).label("refused"),
                func.sum(case((_e.c.kind == _SENT, _e.c.cost), else_=0)).label("cost"),
            )
            .where(self._in(span), _e.c.kind.in_((_SENT, _VERIFIED, *_REFUSED)))
            .group_by(bucket)
            .order_by(bucket)
        )
        return [
            {
                "bucket": row.bucket,
                "sent": int(row.sent or 0),
                "verified": int(row.verified or 0),
                "refused": int(row.refused or 0),
                "spend": round(int(row.cost or 0) / MICROS, 4),
            }
            for row in rows
        ]

    def _by_country(self, db: Connection, span: Range) -> list[dict[str, Any]]:
        sent = func.sum(case((_e.c.kind == _SENT, 1), else_=0))
        verified = func.sum(case((_e.c.kind == _VERIFIED, 1), else_=0))
        rows = db.execute(
            select(_e.c.country, sent.label("sent"), verified.label("verified"))
            .where(self._in(span), _e.c.kind.in_((_SENT, _VERIFIED)), _e.c.country != "")
            .group_by(_e.c.country)
            .order_by(sent.desc(), _e.c.country)
            .limit(TOP)
        )
        return [_conversion({"country": row.country}, row.sent, row.verified) for row in rows]

    def _refusals(self, db: Connection, span: Range) -> list[dict[str, Any]]:
        count = func.count()
        rows = db.execute(
            select(_e.c.kind, _e.c.outcome, count.label("n"))
            .where(self._in(span), _e.c.kind.in_(_REFUSED))
            .group_by(_e.c.kind, _e.c.outcome)
            .order_by(count.desc(), _e.c.outcome)
            .limit(TOP)
        )
        return [
            {
                "reason": row.outcome or row.kind.removeprefix("send_"),
                "kind": row.kind,
                "count": int(row.n),
            }
            for row in rows
        ]

    def _delivery(self, db: Connection, span: Range) -> list[dict[str, Any]]:
        count = func.count()
        rows = db.execute(
            select(_e.c.outcome, count.label("n"))
            .where(self._in(span), _e.c.kind == str(AuditKind.DELIVERY_STATUS))
            .group_by(_e.c.outcome)
            .order_by(count.desc(), _e.c.outcome)
            .limit(TOP)
        )
        return [{"status": row.outcome or "unknown", "count": int(row.n)} for row in rows]

    def _verify_times(self, db: Connection, span: Range) -> tuple[list[dict[str, Any]], float | None]:
        """How long codes took from their first send to their verification: a histogram and the
        median, both in SQL (joined on the provider's session, which one code keeps)."""
        # Each verification of the range (by the kind-and-time index) and its code's first send
        # (by the session index): one lookup per verified code, not a join of two whole groupings.
        sent = _e.alias("sent")
        # The kind is tested inside the aggregate, not in WHERE: a `kind = ...` condition there lets
        # SQLite pick the kind index and scan every send for each verified code.
        first_send = (
            select(func.min(case((sent.c.kind == _SENT, sent.c.at))))
            .where(sent.c.provider_session_id == _e.c.provider_session_id)
            .scalar_subquery()
        )
        if db.dialect.name == "postgresql":
            seconds = func.extract("epoch", _e.c.at - first_send)
        else:
            # Julian days are floats: to the millisecond, 30 s is 30, not 29.99999.
            seconds = func.round((func.julianday(_e.c.at) - func.julianday(first_send)) * 86400.0, 3)
        timed = (
            select(seconds.label("seconds"))
            .where(self._in(span), _e.c.kind == _VERIFIED, _e.c.provider_session_id != "")
            .subquery()
        )
        # One pass: verified codes per whole second (a few hundred rows at most: codes expire), from
        # which the histogram and the median (to the second) are read.
        whole = (
            func.floor(timed.c.seconds) if db.dialect.name == "postgresql" else cast(timed.c.seconds, Integer)
        ).label("second")
        per_second = [
            (int(row.second), int(row.n))
            for row in db.execute(
                select(whole, func.count().label("n"))
                .where(timed.c.seconds.is_not(None))
                .group_by(whole)
                .order_by(whole)
            )
        ]
        counts = [0] * (len(VERIFY_BUCKETS) + 1)
        for second, n in per_second:
            counts[bisect.bisect_right(VERIFY_BUCKETS, second)] += n
        median = _median(per_second)
        labels = [
            *(verify_time_bucket(b) for b in VERIFY_BUCKETS),
            verify_time_bucket(VERIFY_BUCKETS[-1], over=True),
        ]
        return [
            {"bucket": label, "count": count} for label, count in zip(labels, counts, strict=True)
        ], median

    def _by_group(self, db: Connection, span: Range) -> list[dict[str, Any]]:
        """The flagged groups' conversion: their sends and verifications in the audit trail."""
        groups = self._flagged(db, span)[:TOP]
        rows = []
        for group in groups:
            if group.scope == "country":
                where = _e.c.country == group.key
            else:  # a range key is the number without 4 digits; a block's is a prefix of it
                where = (
                    _e.c.range_key == group.key
                    if group.scope == "range"
                    else _e.c.range_key.startswith(group.key, autoescape=True)
                )
            found = db.execute(
                select(
                    func.sum(case((_e.c.kind == _SENT, 1), else_=0)).label("sent"),
                    func.sum(case((_e.c.kind == _VERIFIED, 1), else_=0)).label("verified"),
                ).where(self._in(span), _e.c.kind.in_((_SENT, _VERIFIED)), where)
            ).one()
            rows.append(_conversion({"group": f"{group.scope}:{group.key}"}, found.sent, found.verified))
        return rows

    # -- the tables ----------------------------------------------------------------------

    def events(self, actor: User | None, span: Range, shown: EventFilter) -> list[dict[str, Any]]:
        """The newest events of `span` that pass the filters (`EVENTS_SHOWN` at most)."""
        self._check(actor)
        query = select(
            _e.c.id,
            _e.c.at,
            _e.c.kind,
            _e.c.user_id,
            _e.c.phone_masked,
            _e.c.country,
            _e.c.channel,
            _e.c.outcome,
            _e.c.error_code,
            _e.c.cost,
            _e.c.detail,
        ).where(self._in(span))
        if shown.kind:
            query = query.where(_e.c.kind == shown.kind)
        if shown.country:
            query = query.where(_e.c.country == shown.country)
        if shown.outcome:
            query = query.where(_e.c.outcome == shown.outcome)
        if shown.phone:
            query = query.where(_e.c.phone_masked.contains(shown.phone, autoescape=True))
        with transaction(self._db_url) as db:
            rows = db.execute(query.order_by(_e.c.at.desc(), _e.c.id.desc()).limit(EVENTS_SHOWN)).all()
        return [dict(row._mapping) for row in rows]

    def flagged_groups(self, actor: User | None, span: Range) -> list[FlaggedGroup]:
        """The groups the watch refused sends to in `span`, and those an operator flagged."""
        self._check(actor)
        with transaction(self._db_url) as db:
            return self._flagged(db, span)

    def _flagged(self, db: Connection, span: Range) -> list[FlaggedGroup]:
        refused = func.sum(_t.c.sends)
        tallied = {
            row.key: int(row.refused)
            for row in db.execute(
                select(_t.c.key, refused.label("refused"))
                .where(
                    _t.c.scope == "flagged",
                    _t.c.bucket >= span.since.replace(minute=0, second=0, microsecond=0),
                    _t.c.bucket < span.until,
                )
                .group_by(_t.c.key)
                .order_by(refused.desc(), _t.c.key)
                .limit(100)
            )
        }
        now = self._now()
        flags = {
            f"{row.scope}:{row.key}": row
            for row in db.execute(select(_f).where(_f.c.until > now).order_by(_f.c.until.desc()))
        }
        found = []
        for name in [*tallied, *(name for name in flags if name not in tallied)]:
            scope, _, key = name.partition(":")
            flag = flags.get(name)
            found.append(
                FlaggedGroup(
                    scope=scope,
                    key=key,
                    refused=tallied.get(name, 0),
                    action=flag.action if flag is not None else "",
                    until=flag.until if flag is not None else None,
                )
            )
        return found

    def locked_users(self, actor: User | None) -> list[LockedUser]:
        """The accounts whose SMS factor is locked now (for a while, or until a backup code)."""
        from .lockout import SMS_FACTOR_DISABLED_AFTER  # noqa: PLC0415 - lockout imports the services

        self._check(actor)
        with transaction(self._db_url) as db:
            rows = db.execute(
                select(_u.c.id, _u.c.display_username, _u.c.failed_otp_count, _u.c.locked_until)
                .where(
                    or_(_u.c.locked_until > self._now(), _u.c.failed_otp_count >= SMS_FACTOR_DISABLED_AFTER)
                )
                .order_by(_u.c.locked_until.desc(), _u.c.id)
                .limit(100)
            )
            return [
                LockedUser(row.id, row.display_username, row.failed_otp_count, row.locked_until)
                for row in rows
            ]

    # -- the actions ---------------------------------------------------------------------

    def unlock(self, actor: User | None, user_id: int) -> bool:
        """Clear an account's failures and lock; False when there is no such account."""
        admin_id = self._check(actor)
        with transaction(self._db_url) as db:
            done = db.execute(
                update(_u)
                .where(_u.c.id == user_id)
                .values(failed_otp_count=0, locked_until=None, updated_at=self._now())
            ).rowcount
            if done:
                self._audit.record(
                    db, AuditKind.ADMIN_ACTION, user_id=admin_id, outcome="unlock", detail=f"user:{user_id}"
                )
        return bool(done)

    def flag_group(self, actor: User | None, scope: str, key: str, action: str, hours: int) -> datetime:
        """Lift a group's block (no watch for it) or extend it (no sends to it) for `hours`;
        a new flag replaces the group's old one. Returns when it ends.

        Raises:
            InvalidInput: An unknown scope, key, action or duration.
        """
        admin_id = self._check(actor)
        if scope not in WIDTHS or action not in ("lift", "block") or not _group_key(scope, key):
            raise InvalidInput(GROUP_INVALID)
        if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_FLAG_HOURS:
            raise InvalidInput(GROUP_INVALID)
        now = self._now()
        until = now + timedelta(hours=hours)
        values = {
            "scope": scope,
            "key": key,
            "action": action,
            "until": until,
            "by_user_id": admin_id,
            "at": now,
        }
        with transaction(self._db_url) as db:
            dialect = postgresql if db.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(_f).values(values)
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=[_f.c.scope, _f.c.key],
                    set_={name: statement.excluded[name] for name in ("action", "until", "by_user_id", "at")},
                )
            )
            self._audit.record(
                db,
                AuditKind.ADMIN_ACTION,
                user_id=admin_id,
                outcome="lift" if action == "lift" else "extend",
                detail=f"{scope}:{key} for {hours}h",
            )
        return until

    def clear_flag(self, actor: User | None, scope: str, key: str) -> bool:
        """End an operator's flag on a group now; False when it had none."""
        admin_id = self._check(actor)
        with transaction(self._db_url) as db:
            done = db.execute(delete(_f).where(_f.c.scope == scope, _f.c.key == key)).rowcount
            if done:
                self._audit.record(
                    db,
                    AuditKind.ADMIN_ACTION,
                    user_id=admin_id,
                    outcome="clear-flag",
                    detail=f"{scope}:{key}",
                )
        return bool(done)

    def make_admin(self, username: str) -> int:
        """Give an existing account the operator role (the `admin create` command); its id.

        Raises:
            LookupError: No account has that name.
        """
        try:
            name = canonical(username)
        except InvalidInput as exc:
            raise LookupError(username) from exc
        with transaction(self._db_url) as db:
            user_id = db.execute(select(_u.c.id).where(_u.c.username == name)).scalar()
            if user_id is None:
                raise LookupError(username)
            db.execute(update(_u).where(_u.c.id == user_id).values(role=ADMIN, updated_at=self._now()))
            self._audit.record(
                db, AuditKind.ADMIN_ACTION, user_id=user_id, outcome="grant-admin", detail="by command"
            )
        return int(user_id)


def _group_key(scope: str, key: object) -> bool:
    """Whether `key` can name a group of `scope` (`+1415555`, `+14155`, `US`)."""
    if not isinstance(key, str) or not key:
        return False
    if scope == "country":
        return len(key) == 2 and key.isascii() and key.isalpha() and key.isupper()
    digits = key[1:]
    return key.startswith("+") and 1 <= len(digits) <= 13 and digits.isascii() and digits.isdigit()


def _median(counted: list[tuple[int, int]]) -> float | None:
    """The median of values given in order as (value, how many); None for none."""
    total = sum(n for _, n in counted)
    if not total:
        return None
    middle, seen, found = ((total - 1) // 2, total // 2), 0, []
    for value, n in counted:
        found += [value] * sum(1 for index in middle if seen <= index < seen + n)
        seen += n
    return sum(found) / 2


def _conversion(row: dict[str, Any], sent: object, verified: object) -> dict[str, Any]:
    sent_count, verified_count = int(sent or 0), int(verified or 0)  # type: ignore[call-overload]
    rate = round(100 * verified_count / sent_count, 1) if sent_count else 0.0
    return {**row, "sent": sent_count, "verified": verified_count, "conversion": rate}
