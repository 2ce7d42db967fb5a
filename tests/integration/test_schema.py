"""The schema the migrations build is the models' schema, and the per-send lookups use its index.

Migrations run exactly as a deployer runs them (`reflex db migrate`) on a fresh SQLite file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert
from sqlmodel import SQLModel

from alembic import command
from plivo_otp_app import models
from plivo_otp_app.services import verification_sql

ROOT = Path(__file__).resolve().parents[2]
REFLEX = str(Path(sys.executable).with_name("reflex"))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database built by the project's migrations."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'migrated.db'}"
    env = {**os.environ, "REFLEX_DB_URL": url, "REFLEX_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [REFLEX, "db", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return url


def test_migrations_build_exactly_the_models(migrated: str) -> None:
    assert models.Verification  # the tables are registered on SQLModel.metadata
    with create_engine(migrated).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
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
                "ix_providercode_phone_expires_at",
            ),
            (
                verification_sql._SUPERSEDE,
                {"b_phone": "+14155550001", "b_purpose": "verify", "b_user_id": None},
                "ix_verification_phone_status",
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
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "2ee8eaae4fa5")
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
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(models.Verification.__table__), rows)
    engine.dispose()

    command.upgrade(config, "head")

    with create_engine(url).connect() as connection:
        statuses = dict(connection.exec_driver_sql("SELECT id, status FROM verification").all())
        codes = dict(
            connection.exec_driver_sql("SELECT provider_session_id, attempts FROM providercode").all()
        )
    assert statuses == {rows[0]["id"]: "superseded", rows[1]["id"]: "pending", rows[2]["id"]: "failed"}
    assert codes == {"s-1": 3, "s-0": 5}
