"""The audit trail's writer on a real (migrated) database: what a row keeps of a number,
that it commits and rolls back with the caller's work, the hash key, and the purge."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from plivo_otp_app.audit import Audit, AuditKind
from plivo_otp_app.config import AuditSettings
from plivo_otp_app.db import transaction
from plivo_otp_app.models import AuditEvent

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NUMBER = "+14155552671"


def rows(db_url: str) -> list[AuditEvent]:
    with transaction(db_url) as connection:
        return list(connection.execute(select(AuditEvent.__table__)).all())  # type: ignore[attr-defined]


def test_a_row_keeps_the_number_masked_and_hashed_never_in_clear(db_url: str):
    audit = Audit(AuditSettings(), db_url, lambda: T0)
    with transaction(db_url) as connection:
        audit.record(
            connection, AuditKind.SEND_SENT, phone=NUMBER, channel="sms", cost=7900, address="203.0.113.9"
        )
    (row,) = rows(db_url)
    assert (row.kind, row.phone_masked, row.country, row.range_key) == (
        "send_sent",
        "+1******2671",
        "US",
        "+1415555",
    )
    assert (row.channel, row.cost, row.address, row.at) == ("sms", 7900, "203.0.113.9", T0)
    assert (
        len(row.phone_hash) == 64 and NUMBER not in repr(tuple(row)) and "14155552671" not in row.phone_hash
    )


def test_one_number_groups_under_one_hash_and_another_number_does_not(db_url: str):
    audit = Audit(AuditSettings(), db_url)
    with transaction(db_url) as connection:
        for number in (NUMBER, NUMBER, "+14155552672"):
            audit.record(connection, AuditKind.SEND_REQUESTED, phone=number)
    first, again, other = (row.phone_hash for row in rows(db_url))
    assert first == again != other


def test_the_installation_key_is_made_once_and_shared_by_every_writer(db_url: str):
    with transaction(db_url) as connection:
        first = Audit(AuditSettings(), db_url).phone_hash(connection, NUMBER)
    with transaction(db_url) as connection:
        assert Audit(AuditSettings(), db_url).phone_hash(connection, NUMBER) == first
    # A configured key is another key: the hash is keyed, not a plain digest of the number.
    with transaction(db_url) as connection:
        assert Audit(AuditSettings(hash_key="k" * 32), db_url).phone_hash(connection, NUMBER) != first


def test_an_event_rolls_back_with_the_work_it_records(db_url: str):
    audit = Audit(AuditSettings(), db_url)
    with pytest.raises(RuntimeError), transaction(db_url) as connection:
        audit.record(connection, AuditKind.SEND_SENT, phone=NUMBER)
        raise RuntimeError("the send failed")
    assert rows(db_url) == []


def test_the_purge_removes_only_events_past_the_retention(db_url: str):
    now = [T0]
    audit = Audit(dataclasses.replace(AuditSettings(), retention_days=30), db_url, lambda: now[0])
    with transaction(db_url) as connection:
        audit.record(connection, AuditKind.LOGIN, user_id=1)
    now[0] = T0 + timedelta(days=29)
    with transaction(db_url) as connection:
        audit.record(connection, AuditKind.LOGOUT, user_id=1)
    now[0] = T0 + timedelta(days=30, seconds=1)
    assert audit.purge() == 1
    assert [row.kind for row in rows(db_url)] == ["logout"]
