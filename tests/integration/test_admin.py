"""The operator dashboard's service on a real (migrated) database, from a seeded audit trail:
what each chart adds up to, the event filters, the actions and their audit rows, that the
pumping watch obeys an operator's lift and block, that nobody but an admin gets anything,
and the `admin create` / `audit purge` commands."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from plivo_otp_app.__main__ import main
from plivo_otp_app.audit import Audit, AuditKind
from plivo_otp_app.config import AuditSettings, PumpingSettings, Settings
from plivo_otp_app.db import transaction
from plivo_otp_app.errors import InvalidInput, NotAdmin, SendRefused
from plivo_otp_app.models import AuditEvent, SendTally, User
from plivo_otp_app.phone import normalise
from plivo_otp_app.pumping import Pumping
from plivo_otp_app.services.admin import AdminService, EventFilter, Range, _median, check_range

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SPAN = Range(T0 - timedelta(days=1), T0 + timedelta(days=1))
_events = AuditEvent.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def add_user(db_url: str, name: str, role: str = "user", **values: object) -> User:
    with transaction(db_url) as db:
        user_id = db.execute(
            insert(_users)
            .values(
                username=name,
                display_username=name,
                password_hash="x",
                role=role,
                created_at=T0,
                updated_at=T0,
                **values,
            )
            .returning(_users.c.id)
        ).scalar_one()
    with transaction(db_url) as db:
        row = db.execute(select(_users).where(_users.c.id == user_id)).one()
    return User(**row._mapping)


def seed(db_url: str, clock: Clock) -> None:
    """A small run: US codes mostly verified (10, 20, 30, 40 s after sending), a GB block never,
    refusals, delivery reports and one event outside the range."""
    audit = Audit(AuditSettings(hash_key="k" * 32), db_url, clock)
    with transaction(db_url) as db:

        def at(moment: datetime, kind: AuditKind, **values: object) -> None:
            clock.now = moment
            audit.record(db, kind, **values)  # type: ignore[arg-type]

        for n, wait in enumerate((10, 20, 30, 40)):
            session = f"us-{n}"
            sent = T0 + timedelta(minutes=n)
            at(sent, AuditKind.SEND_SENT, phone=f"+1415555267{n}", provider_session_id=session, cost=7900)
            at(
                sent + timedelta(seconds=wait),
                AuditKind.CODE_VERIFIED,
                phone=f"+1415555267{n}",
                provider_session_id=session,
            )
            at(
                sent + timedelta(seconds=5),
                AuditKind.DELIVERY_STATUS,
                provider_session_id=session,
                outcome="delivered",
            )
        at(T0, AuditKind.SEND_SENT, phone="+14155552680", provider_session_id="us-x", cost=7900)
        for n in range(6):
            at(
                T0 + timedelta(hours=2),
                AuditKind.SEND_SENT,
                phone=f"+44740012340{n}",
                provider_session_id=f"gb-{n}",
                cost=40000,
            )
            at(
                T0 + timedelta(hours=2),
                AuditKind.DELIVERY_STATUS,
                provider_session_id=f"gb-{n}",
                outcome="undelivered",
            )
        for _ in range(3):
            at(T0 + timedelta(hours=3), AuditKind.SEND_BLOCKED, phone="+447400123499", outcome="watch-block")
        at(T0 + timedelta(hours=3), AuditKind.SEND_LIMITED, phone="+447400123499", outcome="send-per-ip")
        at(T0 - timedelta(days=3), AuditKind.SEND_SENT, phone="+14155552699", cost=7900)  # outside the range
    with transaction(db_url) as db:
        db.execute(
            insert(SendTally.__table__),  # type: ignore[attr-defined]
            [
                {
                    "scope": "flagged",
                    "key": "block:+447400",
                    "bucket": T0 + timedelta(hours=3),
                    "sends": 3,
                    "verified": 0,
                    "spent": 0,
                }
            ],
        )


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def admin_service(db_url: str, clock: Clock) -> AdminService:
    return AdminService(Settings(), Audit(AuditSettings(hash_key="k" * 32), db_url, clock), db_url, clock)


@pytest.fixture
def admin(db_url: str) -> User:
    return add_user(db_url, "root", role="admin")


def admin_rows(db_url: str) -> list[tuple[object, ...]]:
    with transaction(db_url) as db:
        found = db.execute(
            select(_events.c.user_id, _events.c.outcome, _events.c.detail)
            .where(_events.c.kind == "admin_action")
            .order_by(_events.c.id)
        )
        return [tuple(row) for row in found]


def test_the_charts_add_up_the_seeded_run(
    db_url: str, clock: Clock, admin_service: AdminService, admin: User
):
    seed(db_url, clock)
    board = admin_service.dashboard(admin, SPAN)
    assert board.totals == {"sent": 11, "verified": 4, "conversion": 36.4, "refused": 4, "spend": 0.28}
    assert board.by_country == [
        {"country": "GB", "sent": 6, "verified": 0, "conversion": 0.0},
        {"country": "US", "sent": 5, "verified": 4, "conversion": 80.0},
    ]
    assert board.refusals == [
        {"reason": "watch-block", "kind": "send_blocked", "count": 3},
        {"reason": "send-per-ip", "kind": "send_limited", "count": 1},
    ]
    assert board.delivery == [{"status": "undelivered", "count": 6}, {"status": "delivered", "count": 4}]
    assert board.median_seconds == 25.0
    assert [row["count"] for row in board.verify_times] == [2, 2, 0, 0, 0, 0]  # under 30 s: 10, 20
    assert board.by_group == [{"group": "block:+447400", "sent": 6, "verified": 0, "conversion": 0.0}]
    # A two-day range is charted by the hour: the sends of 10:00 and 12:00 in their own buckets.
    hours = {row["bucket"]: row for row in board.over_time}
    assert hours["2026-11-20 10:00"]["sent"] == 5 and hours["2026-11-20 10:00"]["verified"] == 4
    assert hours["2026-11-20 12:00"]["sent"] == 6 and hours["2026-11-20 13:00"]["refused"] == 4
    assert board.budget == PumpingSettings().hourly_budget
    week = admin_service.dashboard(admin, Range(T0 - timedelta(days=6), T0 + timedelta(days=1)))
    assert [row["bucket"] for row in week.over_time] == ["2026-11-17", "2026-11-20"]
    assert week.budget == PumpingSettings().daily_budget


def test_an_empty_range_has_no_median_and_no_rows(admin_service: AdminService, admin: User):
    board = admin_service.dashboard(admin, SPAN)
    assert (board.median_seconds, board.over_time, board.by_country, board.by_group) == (None, [], [], [])
    assert board.totals["conversion"] == 0.0


@pytest.mark.parametrize(
    ("shown", "count"),
    [
        (EventFilter(), 29),
        (EventFilter(kind="send_blocked"), 3),
        (EventFilter(country="GB"), 10),
        (EventFilter(outcome="undelivered"), 6),
        (EventFilter(phone="2672"), 2),
        (EventFilter(kind="send_sent", country="US", phone="2672"), 1),
        (EventFilter(phone="%"), 0),  # a LIKE wildcard is a character, not a pattern
    ],
)
def test_the_event_filters(db_url: str, clock: Clock, admin_service: AdminService, admin: User, shown, count):
    seed(db_url, clock)
    found = admin_service.events(admin, SPAN, shown)
    assert len(found) == min(count, 50)
    assert all("+1415555267" not in str(row) and "+4474001234" not in str(row) for row in found)  # masked


def test_nobody_but_an_admin_gets_anything(db_url: str, clock: Clock, admin_service: AdminService):
    seed(db_url, clock)
    user = add_user(db_url, "mallory")
    locked = add_user(db_url, "locked", failed_otp_count=5, locked_until=T0 + timedelta(hours=1))
    calls = [
        lambda actor: admin_service.dashboard(actor, SPAN),
        lambda actor: admin_service.events(actor, SPAN, EventFilter()),
        lambda actor: admin_service.flagged_groups(actor, SPAN),
        lambda actor: admin_service.locked_users(actor),
        lambda actor: admin_service.unlock(actor, locked.id or 0),
        lambda actor: admin_service.flag_group(actor, "block", "+447400", "lift", 24),
        lambda actor: admin_service.clear_flag(actor, "block", "+447400"),
    ]
    for actor in (
        None,
        user,
        User(
            username="forged",
            display_username="f",
            password_hash="",
            role="admin",
            created_at=T0,
            updated_at=T0,
        ),
    ):  # the forged one has no id: not a stored account
        for call in calls:
            with pytest.raises(NotAdmin):
                call(actor)
    assert admin_rows(db_url) == []
    with transaction(db_url) as db:
        still = db.execute(select(_users.c.locked_until).where(_users.c.id == locked.id)).scalar_one()
    assert still is not None


def test_unlock_clears_the_lock_and_is_audited(db_url: str, admin_service: AdminService, admin: User):
    locked = add_user(db_url, "locked", failed_otp_count=100)
    assert [u.username for u in admin_service.locked_users(admin)] == ["locked"]
    assert admin_service.unlock(admin, locked.id or 0)
    assert admin_service.locked_users(admin) == []
    assert admin_rows(db_url) == [(admin.id, "unlock", f"user:{locked.id}")]
    assert not admin_service.unlock(admin, 999_999)
    assert len(admin_rows(db_url)) == 1


def _refused(pumping: Pumping, number: str, now: datetime) -> str:
    with pytest.raises(SendRefused) as caught:
        pumping.admit(normalise(number, "GB"), now, new_flow=True, owner=False)
    return caught.value.reason


def test_the_watch_obeys_a_lift_and_a_block(
    db_url: str, clock: Clock, admin_service: AdminService, admin: User
):
    # Refused at the count itself (no challenge stage), the address rules off: the watch alone.
    settings = dataclasses.replace(
        PumpingSettings(),
        window_minutes=1440,
        range_unverified=0,
        block_unverified=3,
        refuse_factor=1,
        address_sends=0,
        burst_sends=0,
    )
    pumping = Pumping(settings, db_url)
    now = clock.now = T0 + timedelta(minutes=12)
    for n in range(3):
        pumping.admit(normalise(f"+4474001234{n:02d}", "GB"), now, new_flow=True, owner=False)
    assert _refused(pumping, "+447400123410", now) == "watch-block"
    assert [(g.scope, g.key, g.refused) for g in admin_service.flagged_groups(admin, SPAN)] == [
        ("block", "+447400", 1)
    ]
    until = admin_service.flag_group(admin, "block", "+447400", "lift", 1)
    assert until == now + timedelta(hours=1)
    pumping.admit(normalise("+447400123411", "GB"), now, new_flow=True, owner=False)  # lifted: sent
    (group,) = admin_service.flagged_groups(admin, SPAN)
    assert (group.action, group.until) == ("lift", until)
    assert _refused(pumping, "+447400123412", until) == "watch-block"  # the lift has ended
    admin_service.flag_group(admin, "block", "+447400", "block", 2)
    assert _refused(pumping, "+447400123413", now) == "operator-block"
    assert _refused(pumping, "+447400567890", now) == "operator-block"  # another range of the block
    pumping.admit(normalise("+447911123456", "GB"), now, new_flow=True, owner=False)  # another block: sent
    assert admin_service.clear_flag(admin, "block", "+447400")
    assert _refused(pumping, "+447400123414", now) == "watch-block"
    assert [row[1:] for row in admin_rows(db_url)] == [
        ("lift", "block:+447400 for 1h"),
        ("extend", "block:+447400 for 2h"),
        ("clear-flag", "block:+447400"),
    ]


@pytest.mark.parametrize(
    ("scope", "key", "action", "hours"),
    [
        ("nation", "US", "lift", 24),
        ("country", "us", "lift", 24),
        ("block", "14155", "lift", 24),
        ("block", "+1415a", "lift", 24),
        ("block", "+14155", "delete", 24),
        ("block", "+14155", "lift", 0),
        ("block", "+14155", "lift", 10_000),
        ("block", "+14155", "lift", True),
    ],
)
def test_a_flag_is_checked(admin_service: AdminService, admin: User, db_url: str, scope, key, action, hours):
    with pytest.raises(InvalidInput):
        admin_service.flag_group(admin, scope, key, action, hours)
    assert admin_rows(db_url) == []


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (T0, T0),
        (T0 + timedelta(days=1), T0),
        (T0, T0 + timedelta(days=400)),
        (T0.replace(tzinfo=None), T0 + timedelta(days=1)),
        ("2026-11-20", "2026-11-21"),
    ],
)
def test_a_range_is_checked(since, until):
    with pytest.raises(InvalidInput):
        check_range(since, until)


def test_admin_create_makes_an_existing_account_an_admin(db_url: str, capsys):
    user = add_user(db_url, "alice")
    assert main(["admin", "create", "Alice", "--db-url", db_url]) == 0  # the name as it logs in
    with transaction(db_url) as db:
        assert db.execute(select(_users.c.role).where(_users.c.id == user.id)).scalar_one() == "admin"
    assert "alice" in capsys.readouterr().out.lower()
    assert admin_rows(db_url) == [(user.id, "grant-admin", "by command")]
    assert main(["admin", "create", "nobody", "--db-url", db_url]) == 1
    assert "no account named 'nobody'" in capsys.readouterr().err
    with transaction(db_url) as db:
        assert db.execute(select(_users.c.id).where(_users.c.role == "admin")).scalars().all() == [user.id]


def test_audit_purge_deletes_what_is_older_than_the_retention(db_url: str, monkeypatch, capsys):
    audit = Audit(AuditSettings(), db_url)
    now = datetime.now(UTC)
    with transaction(db_url) as db:
        for days in (1, 89, 91, 400):
            audit.clock = lambda days=days: now - timedelta(days=days)
            audit.record(db, AuditKind.LOGIN)
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "90")
    assert main(["audit", "purge", "--db-url", db_url]) == 0
    assert "purged 2 audit events older than 90 days" in capsys.readouterr().out
    with transaction(db_url) as db:
        assert len(db.execute(select(_events.c.id)).all()) == 2


@pytest.mark.parametrize(
    ("counted", "median"),
    [
        ([], None),
        ([(3, 4)], 3),
        ([(1, 1), (5, 1), (9, 1)], 5),
        ([(10, 1), (20, 1)], 15),
        ([(1, 3), (7, 1)], 1),
    ],
)
def test_the_median_of_counted_seconds(counted, median):
    assert _median(counted) == median
