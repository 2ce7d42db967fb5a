"""The package's migrations in a database of their own, an old one, and a host app's.

"Old" is a database the project's top-level `alembic/` history built before the tables moved
into the package: the same revisions, run as `reflex db migrate` ran them (Reflex's own
runner, recording in `alembic_version`), with rows in every table. Each test runs on SQLite,
and on a PostgreSQL database of its own when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import run_at_once
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from plivo_otp_app import migrations, models

ROOT = Path(__file__).resolve().parents[2]
HEAD = "b7f4c2d9e1a3"
OLD_HEAD = "5b7c1d2e9f30"  # the old history's last revision
NEW_NAMES = {
    "user": "otp_user",
    "authsession": "otp_auth_session",
    "loginticket": "otp_login_ticket",
    "pendinglogin": "otp_pending_login",
    "backupcode": "otp_backup_code",
    "trusteddevice": "otp_trusted_device",
    "verification": "otp_verification",
    "providercode": "otp_provider_code",
}
#: Tables of the revisions after the rename: new, so an adopted database gets them empty.
ADDED = {
    "otp_send_tally",
    "otp_audit_event",
    "otp_audit_key",
    "otp_callback_nonce",
    "otp_delivery_report",
    "otp_channel_fallback",
    "otp_challenge_key",
    "otp_challenge_spent",
    "otp_group_flag",
}
DIALECTS = pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
HASH = "ab" * 32

#: One row per old table (columns a table lacks at an older revision are left out).
ROWS: dict[str, dict[str, Any]] = {
    "user": {
        "id": 7,
        "username": "alice",
        "email": "alice@example.com",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "phone_number": "+14155552671",
        "is_phone_verified": True,
        "two_factor_enabled": True,
        "failed_otp_count": 1,
        "locked_until": None,
        "created_at": NOW,
        "updated_at": NOW,
    },
    "authsession": {
        "id": 3,
        "token_hash": HASH,
        "user_id": 7,
        "created_at": NOW,
        "last_seen_at": NOW,
        "expires_at": LATER,
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        "revoked_at": None,
    },
    "loginticket": {
        "id": 4,
        "ticket_hash": HASH,
        "user_id": 7,
        "remember_device": True,
        "landing": "/account",
        "browser_hash": "cd" * 32,
        "expires_at": LATER,
        "used_at": None,
    },
    "pendinglogin": {
        "id": 5,
        "token_hash": HASH,
        "user_id": 7,
        "verification_id": "00000000-0000-4000-8000-000000000001",
        "created_at": NOW,
        "expires_at": LATER,
        "completed_at": None,
    },
    "backupcode": {"id": 6, "user_id": 7, "code_hash": HASH, "created_at": NOW, "used_at": None},
    "trusteddevice": {
        "id": 8,
        "user_id": 7,
        "token_hash": HASH,
        "label": "Firefox on Linux",
        "created_at": NOW,
        "expires_at": LATER,
        "revoked_at": None,
    },
    "verification": {
        "id": "00000000-0000-4000-8000-000000000001",
        "purpose": "login",
        "user_id": 7,
        "phone": "+14155552671",
        "channel": "sms",
        "provider_session_id": "session-1",
        "status": "pending",
        "attempts": 2,
        "max_attempts": 5,
        "sends": 1,
        "client_ip": "192.0.2.1",
        "created_at": NOW,
        "expires_at": LATER,
        "next_send_at": NOW,
        "verified_at": None,
    },
    "providercode": {
        "provider_session_id": "session-1",
        "phone": "+14155552671",
        "attempts": 2,
        "max_attempts": 5,
        "created_at": NOW,
        "expires_at": LATER,
    },
}


def build_old(url: str, revision: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The old history up to `revision`, run by `reflex db migrate`'s own code on the old alembic.ini."""
    from reflex import model

    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {Path(migrations.__file__).parent}\n")
    monkeypatch.setenv("ALEMBIC_CONFIG", str(ini))
    db = create_engine(url)
    with db.connect() as connection:
        model._alembic_upgrade(connection=connection, to_rev=revision)
        connection.commit()
    db.dispose()


def fill_old(url: str) -> dict[str, dict[str, Any]]:
    """A row in every table the old database has; the rows as written."""
    db = create_engine(url)
    written: dict[str, dict[str, Any]] = {}
    with db.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        for table, row in ROWS.items():
            if table not in tables:
                continue
            columns = {column["name"] for column in inspect(connection).get_columns(table)}
            kept = {name: value for name, value in row.items() if name in columns}
            names = ", ".join(kept)
            values = ", ".join(f":{name}" for name in kept)
            connection.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({values})'), kept)
            written[table] = kept
    db.dispose()
    return written


def rows_of(connection: Any, table: str) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]


def same(stored: Any, written: Any) -> bool:
    """Equal as stored: SQLite hands datetimes back as text, PostgreSQL without the zone."""
    if isinstance(written, datetime):
        if isinstance(stored, str):
            stored = datetime.fromisoformat(stored)
        return stored.replace(tzinfo=UTC) == written
    return stored == written


def assert_schema_is_the_models(url: str) -> None:
    db = create_engine(url)
    with db.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": migrations.is_ours, "include_object": migrations.include_object}
        )
        assert compare_metadata(context, SQLModel.metadata) == []
    db.dispose()


def assert_foreign_keys_point_at_otp_user(url: str) -> None:
    """Every foreign key names otp_user, and the database enforces it."""
    db = create_engine(url)
    with db.connect() as connection:
        inspector = inspect(connection)
        for table in models.SQLModel.metadata.tables:
            for key in inspector.get_foreign_keys(table):
                assert key["referred_table"] == "otp_user", (table, key)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        with pytest.raises(IntegrityError):
            connection.execute(
                text(
                    "INSERT INTO otp_backup_code (id, user_id, code_hash, created_at) "
                    "VALUES (99, 12345, 'x', :now)"
                ),
                {"now": NOW},
            )
        connection.rollback()
    db.dispose()


def names_in(url: str) -> set[str]:
    """Every table, index, constraint and sequence name in the database (SQLite: tables and indexes)."""
    db = create_engine(url)
    with db.connect() as connection:
        if connection.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        else:
            query = (
                "SELECT relname FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace "
                "WHERE nspname = current_schema() UNION SELECT conname FROM pg_constraint "
                "JOIN pg_namespace ON pg_namespace.oid = connamespace WHERE nspname = current_schema()"
            )
        names = set(connection.exec_driver_sql(query).scalars())
    db.dispose()
    return names


def version_rows(url: str, table: str) -> list[str] | None:
    db = create_engine(url)
    with db.connect() as connection:
        if not inspect(connection).has_table(table):
            return None
        found = list(connection.execute(text(f"SELECT version_num FROM {table}")).scalars())
    db.dispose()
    return found


@DIALECTS
@pytest.mark.parametrize("old_revision", [OLD_HEAD, "2ee8eaae4fa5"])
def test_an_old_database_is_adopted_and_renamed_with_every_row(
    dialect: str, old_revision: str, new_database: Callable[[str], str], monkeypatch, tmp_path
) -> None:
    url = new_database(dialect)
    build_old(url, old_revision, monkeypatch, tmp_path)
    written = fill_old(url)
    assert migrations.current(url) == old_revision  # recognised before it is adopted

    migrations.upgrade(url)

    db = create_engine(url)
    with db.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert tables == {*NEW_NAMES.values(), *ADDED, "otp_alembic_version"}
        for old, row in written.items():
            stored = rows_of(connection, NEW_NAMES[old])
            assert len(stored) == 1, old
            assert all(same(stored[0][name], value) for name, value in row.items()), (old, stored)
        if "providercode" not in written:  # older than the per-code revision: it made the code
            code = rows_of(connection, "otp_provider_code")
            assert [(c["provider_session_id"], c["attempts"]) for c in code] == [("session-1", 2)]
    db.dispose()
    assert version_rows(url, "otp_alembic_version") == [HEAD]
    assert version_rows(url, "alembic_version") is None  # it held only ours: gone
    assert migrations.current(url) == HEAD
    assert_schema_is_the_models(url)
    assert_foreign_keys_point_at_otp_user(url)


@DIALECTS
def test_an_adopted_database_has_the_names_of_a_new_one(
    dialect: str, new_database: Callable[[str], str], monkeypatch, tmp_path
) -> None:
    """No old name is left behind: not an index, nor (PostgreSQL) a primary key or sequence."""
    old, new = new_database(dialect), new_database(dialect)
    build_old(old, OLD_HEAD, monkeypatch, tmp_path)
    migrations.upgrade(old)
    migrations.upgrade(new)
    assert names_in(old) == names_in(new)
    assert all(name.startswith(("otp_", "ix_otp_", "uq_otp_")) for name in names_in(new))


@DIALECTS
def test_a_host_database_keeps_its_own_user_table_and_history(
    dialect: str, new_database: Callable[[str], str]
) -> None:
    url = new_database(dialect)
    host = create_engine(url)
    with host.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('hostapp0001')"))
        connection.execute(
            text('CREATE TABLE "user" (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL)')
        )
        connection.execute(text('CREATE UNIQUE INDEX ix_user_username ON "user" (username)'))
        connection.execute(text("INSERT INTO \"user\" VALUES (1, 'host-alice'), (2, 'host-bob')"))
    host.dispose()

    migrations.upgrade(url)

    assert version_rows(url, "alembic_version") == ["hostapp0001"]
    assert version_rows(url, "otp_alembic_version") == [HEAD]
    db = create_engine(url)
    with db.connect() as connection:
        assert rows_of(connection, "user") == [
            {"id": 1, "username": "host-alice"},
            {"id": 2, "username": "host-bob"},
        ]
        assert rows_of(connection, "otp_user") == []
    db.dispose()
    assert_schema_is_the_models(url)
    assert_foreign_keys_point_at_otp_user(url)


@DIALECTS
def test_an_old_database_shared_with_a_host_history_keeps_the_host_row(
    dialect: str, new_database: Callable[[str], str], monkeypatch, tmp_path
) -> None:
    url = new_database(dialect)
    build_old(url, OLD_HEAD, monkeypatch, tmp_path)
    db = create_engine(url)
    with db.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version VALUES ('hostapp0001')"))
    db.dispose()

    migrations.upgrade(url)

    assert version_rows(url, "alembic_version") == ["hostapp0001"]
    assert version_rows(url, "otp_alembic_version") == [HEAD]


@DIALECTS
def test_a_second_upgrade_changes_nothing(
    dialect: str, new_database: Callable[[str], str], monkeypatch, tmp_path, caplog
) -> None:
    url = new_database(dialect)
    build_old(url, OLD_HEAD, monkeypatch, tmp_path)
    fill_old(url)
    caplog.set_level(logging.INFO, logger="alembic")
    migrations.upgrade(url)
    assert "Running upgrade 5b7c1d2e9f30 -> 8d41c07e5a2b" in caplog.text
    names, rows = names_in(url), _all_rows(url)
    caplog.clear()

    migrations.upgrade(url)

    assert "Running" not in caplog.text
    assert (names_in(url), _all_rows(url)) == (names, rows)
    assert migrations.current(url) == HEAD


def _all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    db = create_engine(url)
    with db.connect() as connection:
        found = {table: rows_of(connection, table) for table in [*NEW_NAMES.values(), "otp_alembic_version"]}
    db.dispose()
    return found


def test_a_new_database_has_no_revision_until_upgraded(new_database: Callable[[str], str]) -> None:
    url = new_database("sqlite")
    assert migrations.current(url) is None
    migrations.upgrade(url, OLD_HEAD)  # an older revision is the old schema, as it was
    assert migrations.current(url) == OLD_HEAD
    assert "verification" in names_in(url)
    migrations.upgrade(url)
    assert migrations.current(url) == HEAD
    assert_schema_is_the_models(url)


def test_the_command_migrates_the_reflex_project_in_the_current_directory(tmp_path: Path) -> None:
    """No --db-url: rxconfig.py's db_url, unless REFLEX_DB_URL says otherwise."""
    (tmp_path / "rxconfig.py").write_text(
        'import reflex as rx\n\nconfig = rx.Config(app_name="hostapp", db_url="sqlite:///host.db")\n'
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("REFLEX_DB")}
    env["PYTHONPATH"] = str(ROOT)
    env["REFLEX_TELEMETRY_ENABLED"] = "false"

    def run(*args: str, **extra: str) -> str:
        command = [sys.executable, "-m", "plivo_otp_app.migrations", *args]
        done = subprocess.run(
            command, cwd=tmp_path, env={**env, **extra}, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    assert run("current") == "none"
    assert run("upgrade") == f"otp tables at {HEAD} (was none)"
    assert run("current") == HEAD
    assert run("upgrade") == f"otp tables at {HEAD}"
    assert migrations.current(f"sqlite:///{tmp_path / 'host.db'}") == HEAD
    other = tmp_path / "other.db"
    run("upgrade", REFLEX_DB_URL=f"sqlite:///{other}")
    assert migrations.current(f"sqlite:///{other}") == HEAD
    third = tmp_path / "third.db"
    run("upgrade", "--db-url", f"sqlite:///{third}")
    assert migrations.current(f"sqlite:///{third}") == HEAD


@DIALECTS
def test_a_failed_upgrade_leaves_the_old_database_as_it_was(
    dialect: str, new_database: Callable[[str], str], monkeypatch, tmp_path
) -> None:
    """One transaction, on SQLite too: the renames before the failing one, and the adoption, roll back."""
    url = new_database(dialect)
    build_old(url, OLD_HEAD, monkeypatch, tmp_path)
    written = fill_old(url)
    db = create_engine(url)
    with db.begin() as connection:  # in the way of the last rename
        connection.execute(text("CREATE TABLE otp_provider_code (id INTEGER PRIMARY KEY)"))
    db.dispose()
    before = names_in(url)

    with pytest.raises(Exception, match="otp_provider_code"):
        migrations.upgrade(url)

    assert names_in(url) == before
    assert version_rows(url, "alembic_version") == [OLD_HEAD]
    db = create_engine(url)
    with db.connect() as connection:
        assert {table: len(rows_of(connection, table)) for table in written} == dict.fromkeys(written, 1)
    db.dispose()


@DIALECTS
def test_concurrent_upgrades_of_one_database_wait_for_each_other(
    dialect: str, new_database: Callable[[str], str]
) -> None:
    url = new_database(dialect)
    results = run_at_once(4, lambda _: migrations.upgrade(url))
    assert results == [None] * 4
    assert version_rows(url, "otp_alembic_version") == [HEAD]
    assert_schema_is_the_models(url)
