"""The otp_ prefix: tables, indexes and constraints renamed so they sit beside a host app's own.

Rows stay where they are: every table is renamed in place (`ALTER TABLE ... RENAME`), and its
indexes with it. SQLite has no `ALTER INDEX ... RENAME`, so each index is dropped and created
again from its own `CREATE INDEX` text (partial ones keep their `WHERE`); SQLite rewrites the
foreign keys that point at a renamed table by itself, and its constraint names are local to
their table. PostgreSQL names primary keys, foreign keys and sequences after the table, and
primary keys and sequences share one namespace per schema with every table and index: they
are renamed too, so a host app's own `user` table never meets a `user_pkey` or
`user_id_seq` of ours.

A database with none of our tables does not replay the history before this revision: it gets
`create_schema()` (this revision's tables, built directly) and is stamped here.

Revision ID: 8d41c07e5a2b
Revises: 5b7c1d2e9f30
Create Date: 2026-12-01 14:40:00.000000

"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy import Connection

# revision identifiers, used by Alembic.
revision: str = "8d41c07e5a2b"
down_revision: str | Sequence[str] | None = "5b7c1d2e9f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Old name -> new name.
TABLES = {
    "user": "otp_user",
    "authsession": "otp_auth_session",
    "loginticket": "otp_login_ticket",
    "pendinglogin": "otp_pending_login",
    "backupcode": "otp_backup_code",
    "trusteddevice": "otp_trusted_device",
    "verification": "otp_verification",
    "providercode": "otp_provider_code",
}
#: The one name the old history chose itself (PostgreSQL would have named it otp_verification_user_id_fkey).
_NAMED = {"fk_verification_user_id_user": "otp_verification_user_id_fkey"}


def upgrade() -> None:
    """Rename the tables, their indexes and (on PostgreSQL) their constraints and sequences."""
    _rename_all(TABLES, _NAMED)


def downgrade() -> None:
    """Give everything its old name back."""
    _rename_all({new: old for old, new in TABLES.items()}, {new: old for old, new in _NAMED.items()})


def _rename_all(tables: dict[str, str], named: dict[str, str]) -> None:
    bind = op.get_bind()
    for old, new in tables.items():
        indexes = [index["name"] for index in sa.inspect(bind).get_indexes(old) if index["name"]]
        op.rename_table(old, new)
        for name in indexes:
            _rename_index(bind, name, _renamed(name, old, new, named))
        if bind.dialect.name == "postgresql":
            _rename_postgresql_objects(bind, old, new, named)


def _renamed(name: str, old: str, new: str, named: dict[str, str]) -> str:
    """`ix_user_email` -> `ix_otp_user_email`, `user_pkey` -> `otp_user_pkey` (and back)."""
    if name in named:
        return named[name]
    for prefix in ("ix_", "uq_", ""):
        if name.startswith(f"{prefix}{old}_"):
            return f"{prefix}{new}{name[len(prefix) + len(old) :]}"
    return name


def _rename_index(bind: Connection, name: str, new_name: str) -> None:
    if new_name == name:
        return
    if bind.dialect.name != "sqlite":
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{new_name}"')
        return
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": name}
    ).scalar_one()
    created, found = re.subn(
        rf"^(CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?)[\"`\[]?{re.escape(name)}[\"`\]]?",
        lambda match: f'{match.group(1)}"{new_name}"',
        sql,
        count=1,
        flags=re.IGNORECASE,
    )
    if found != 1:
        raise RuntimeError(f"cannot rename index {name}: {sql}")
    op.execute(f'DROP INDEX "{name}"')
    op.execute(created)


def _rename_postgresql_objects(bind: Connection, old: str, new: str, named: dict[str, str]) -> None:
    """The primary key, the foreign keys and the id sequence of the table now called `new`."""
    inspector = sa.inspect(bind)
    constraints = [inspector.get_pk_constraint(new).get("name")]
    constraints += [key.get("name") for key in inspector.get_foreign_keys(new)]
    for name in filter(None, constraints):
        new_name = _renamed(name, old, new, named)
        if new_name != name:
            op.execute(f'ALTER TABLE "{new}" RENAME CONSTRAINT "{name}" TO "{new_name}"')
    for column in inspector.get_columns(new):
        sequence = bind.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": f'"{new}"', "column": column["name"]},
        ).scalar()
        if sequence is not None:
            short = sequence.rpartition(".")[2].strip('"')
            op.execute(f'ALTER SEQUENCE {sequence} RENAME TO "{_renamed(short, old, new, named)}"')


def create_schema() -> None:
    """This revision's tables, indexes and constraints, for a database with none of ours yet.

    Frozen as it is: later revisions change the schema on top of it, as on a renamed one.
    """
    op.create_table(
        "otp_provider_code",
        sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider_session_id"),
    )
    with op.batch_alter_table("otp_provider_code", schema=None) as batch_op:
        batch_op.create_index("ix_otp_provider_code_phone_expires_at", ["phone", "expires_at"], unique=False)

    op.create_table(
        "otp_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("phone_number", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("is_phone_verified", sa.Boolean(), nullable=False),
        sa.Column("two_factor_enabled", sa.Boolean(), nullable=False),
        sa.Column("failed_otp_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_user_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_otp_user_phone_number"), ["phone_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_otp_user_username"), ["username"], unique=True)

    op.create_table(
        "otp_auth_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_auth_session_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_otp_auth_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otp_backup_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_backup_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_backup_code_code_hash"), ["code_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_otp_backup_code_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otp_login_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("remember_device", sa.Boolean(), nullable=False),
        sa.Column("landing", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_login_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_login_ticket_ticket_hash"), ["ticket_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_otp_login_ticket_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otp_pending_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_pending_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_pending_login_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_otp_pending_login_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otp_trusted_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_trusted_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_trusted_device_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_otp_trusted_device_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otp_verification",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("client_ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_send_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["otp_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_verification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_otp_verification_phone_status", ["phone", "status", "expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_otp_verification_provider_session_id"), ["provider_session_id"], unique=False
        )
        batch_op.create_index(
            "uq_otp_verification_one_pending_anonymous",
            ["phone", "purpose"],
            unique=True,
            sqlite_where=sa.text("status = 'pending' AND user_id IS NULL"),
            postgresql_where=sa.text("status = 'pending' AND user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_otp_verification_one_pending_per_user",
            ["phone", "purpose", "user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending' AND user_id IS NOT NULL"),
            postgresql_where=sa.text("status = 'pending' AND user_id IS NOT NULL"),
        )
