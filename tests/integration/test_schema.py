"""The schema the migrations build is the models' schema, and the per-send lookups use its index.

Migrations run exactly as a deployer runs them (`python -m plivo_otp_app.migrations upgrade` in
the project) on a fresh SQLite file, and on a PostgreSQL database of its own when
TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, insert
from sqlmodel import SQLModel

from plivo_otp_app import migrations, models
from plivo_otp_app.services import verification_sql

ROOT = Path(__file__).resolve().parents[2]


def migrate(url: str) -> str:
    """Run the package's migrate command in the project, on `url`."""
    env = {**os.environ, "REFLEX_DB_URL": url, "REFLEX_TELEMETRY_ENABLED": "false"}
    command = [sys.executable, "-m", "plivo_otp_app.migrations", "upgrade"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return url


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database built by the project's migrations."""
    return migrate(f"sqlite:///{tmp_path_factory.mktemp('schema') / 'migrated.db'}")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_build_exactly_the_models(dialect: str, new_database) -> None:
    url = migrate(new_database(dialect))
    assert models.Verification  # the tables are registered on SQLModel.metadata
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": migrations.is_ours, "include_object": migrations.include_object}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_per_send_lookups_use_the_phone_status_index(migrated: str) -> None:
    """With many anonymous pending rows, locating a number's rows must not walk them."""
    engine = create_engine(migrated)
    now = datetime.now(UTC)
    rows = [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "purpose": "verify",
            "user_id": None,
            "phone": f"+1415555{i % 10000:04d}",
            "channel": "sms",
            "provider_session_id": f"session-{i}",
            "status": "pending",
            "attempts": 0,
            "max_attempts": 5,
            "sends": 1,
            "client_ip": "10.0.0.1",
            "created_at": now,
            "expires_at": now + timedelta(minutes=10),
            "next_send_at": now,
        }
        for i in range(2000)
    ]
    with engine.begin() as connection:
        connection.execute(insert(models.Verification.__table__), rows)
        # "Is this number locked?" asks the codes (by phone), superseding asks the flows.
        for statement, params, index in (
            (
                verification_sql._LOCKED_UNTIL,
                {"phone": "+14155550001", "now": now.isoformat(" ")},
                "ix_otp_provider_code_phone_expires_at",
            ),
            (
                verification_sql._SUPERSEDE,
                {"b_phone": "+14155550001", "b_purpose": "verify", "b_user_id": None},
                "ix_otp_verification_phone_status",
            ),
        ):
            compiled = statement.compile(dialect=engine.dialect)
            values = compiled.construct_params(params)
            positional = tuple(values[name] for name in compiled.positiontup or ())
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert index in details, details


def test_the_per_code_migration_keeps_every_row_and_leaves_one_pending_flow(tmp_path: Path) -> None:
    """Rows written before it (two pending flows for one number, as concurrent starts left
    them on PostgreSQL) survive: the older becomes superseded, every provider session becomes
    a code with the most attempts spent on it."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrations.upgrade(url, "2ee8eaae4fa5")
    now = datetime.now(UTC)

    def flow(number: int, status: str, attempts: int, session: str, age: int) -> dict[str, object]:
        return {
            "id": f"00000000-0000-4000-8000-{number:012d}",
            "purpose": "verify",
            "user_id": None,
            "phone": "+14155552671",
            "channel": "sms",
            "provider_session_id": session,
            "status": status,
            "attempts": attempts,
            "max_attempts": 5,
            "sends": 1,
            "client_ip": "10.0.0.1",
            "created_at": now - timedelta(seconds=age),
            "expires_at": now + timedelta(minutes=5),
            "next_send_at": now,
        }

    rows = [
        flow(1, "pending", 2, "s-1", 30),
        flow(2, "pending", 3, "s-1", 10),
        flow(3, "failed", 5, "s-0", 90),
    ]
    old_table = models.Verification.__table__.to_metadata(MetaData(), name="verification")  # type: ignore[attr-defined]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(old_table), rows)
    engine.dispose()

    migrations.upgrade(url)

    with create_engine(url).connect() as connection:
        statuses = dict(connection.exec_driver_sql("SELECT id, status FROM otp_verification").all())
        codes = dict(
            connection.exec_driver_sql("SELECT provider_session_id, attempts FROM otp_provider_code").all()
        )
    assert statuses == {rows[0]["id"]: "superseded", rows[1]["id"]: "pending", rows[2]["id"]: "failed"}
    assert codes == {"s-1": 3, "s-0": 5}
