"""The usernames migration on a database with accounts: SQLite, and PostgreSQL when TEST_DATABASE_URL is set.

Each name takes its canonical form under the unique index and keeps its display form; names
that would become one, or that PRECIS refuses, stop the upgrade, named, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from plivo_otp_app import migrations

BEFORE = migrations.PREFIXED  # the revision before the usernames one
DIALECTS = pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _with_users(url: str, names: dict[int, str]) -> None:
    migrations.upgrade(url, BEFORE)
    db = create_engine(url)
    with db.begin() as connection:
        for user_id, name in names.items():
            connection.execute(
                text(
                    "INSERT INTO otp_user (id, username, email, password_hash, is_phone_verified,"
                    " two_factor_enabled, failed_otp_count, created_at, updated_at)"
                    " VALUES (:id, :name, :email, 'x', false, false, 0, :now, :now)"
                ),
                {"id": user_id, "name": name, "email": f"user{user_id}@example.com", "now": NOW},
            )
    db.dispose()


def _users(url: str) -> list[dict[str, object]]:
    db = create_engine(url)
    with db.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("otp_user")}
        shown = ", display_username" if "display_username" in columns else ""
        rows = connection.execute(text(f"SELECT id, username{shown}, email FROM otp_user ORDER BY id"))
        found = [dict(row._mapping) for row in rows]
    db.dispose()
    return found


@DIALECTS
def test_existing_names_take_their_canonical_form_and_keep_their_display_form(
    dialect: str, new_database: Callable[[str], str]
) -> None:
    url = new_database(dialect)
    _with_users(url, {1: "alice", 2: "\uff22\uff4f\uff42", 3: "ΟΔΥΣΣΈΑΣ", 4: "محمد", 5: "Jose\u0301"})

    migrations.upgrade(url)

    assert [(u["id"], u["username"], u["display_username"]) for u in _users(url)] == [
        (1, "alice", "alice"),
        (2, "bob", "Bob"),  # fullwidth "Bob"
        (3, "οδυσσέας", "ΟΔΥΣΣΈΑΣ"),
        (4, "محمد", "محمد"),
        (5, "josé", "José"),
    ]
    assert migrations.current(url) != BEFORE
    db = create_engine(url)
    with db.begin() as connection, pytest.raises(IntegrityError):  # the unique index holds the canonical form
        connection.execute(
            text(
                "INSERT INTO otp_user (username, display_username, password_hash, is_phone_verified,"
                " two_factor_enabled, failed_otp_count, created_at, updated_at)"
                " VALUES ('bob', 'BOB', 'x', false, false, 0, :now, :now)"
            ),
            {"now": NOW},
        )
    db.dispose()


@DIALECTS
@pytest.mark.parametrize(
    ("names", "named"),
    [
        ({1: "alice", 2: "John", 3: "john", 4: "\uff4a\uff4f\uff48\uff4e"}, r"ids \[2, 3, 4\] -> 'john'"),
        ({1: "alice", 2: "two words"}, r"id 2 'two words' \(DISALLOWED/spaces\)"),
    ],
)
def test_names_that_cannot_convert_stop_the_upgrade_and_change_nothing(
    dialect: str, new_database: Callable[[str], str], names: dict[int, str], named: str
) -> None:
    url = new_database(dialect)
    _with_users(url, names)
    before = _users(url)

    with pytest.raises(RuntimeError, match=named):
        migrations.upgrade(url)

    assert _users(url) == before
    assert migrations.current(url) == BEFORE
    db = create_engine(url)
    with db.begin() as connection:  # what the operator does: rename, then upgrade again
        connection.execute(text("UPDATE otp_user SET username = 'user' || CAST(id AS VARCHAR) WHERE id > 2"))
        connection.execute(text("UPDATE otp_user SET username = 'words' WHERE id = 2"))
    db.dispose()
    migrations.upgrade(url)
    assert [u["username"] for u in _users(url)][:2] == ["alice", "words"]
