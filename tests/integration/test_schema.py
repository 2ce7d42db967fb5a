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
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert
from sqlmodel import SQLModel

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
        for statement, params in (
            (verification_sql._LOCKED_UNTIL, {"phone": "+14155550001", "now": now.isoformat(" ")}),
            (
                verification_sql._SUPERSEDE,
                {"b_phone": "+14155550001", "b_purpose": "verify", "b_user_id": None},
            ),
        ):
            compiled = statement.compile(dialect=engine.dialect)
            values = compiled.construct_params(params)
            positional = tuple(values[name] for name in compiled.positiontup or ())
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "ix_verification_phone_status" in details, details
