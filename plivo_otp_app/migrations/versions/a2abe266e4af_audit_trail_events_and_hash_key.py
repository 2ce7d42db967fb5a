"""Audit trail: otp_audit_event, one row per security event, and otp_audit_key, the installation's hash key.

Revision ID: a2abe266e4af
Revises: 6dac3f7b21c9
Create Date: 2026-12-01 20:29:31.032133

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a2abe266e4af"
down_revision: str | Sequence[str] | None = "6dac3f7b21c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "otp_audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("phone_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("range_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_audit_event_at"), ["at"], unique=False)
        batch_op.create_index("ix_otp_audit_event_country_at", ["country", "at"], unique=False)
        batch_op.create_index("ix_otp_audit_event_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index("ix_otp_audit_event_phone_hash_at", ["phone_hash", "at"], unique=False)
        batch_op.create_index("ix_otp_audit_event_provider_session_id", ["provider_session_id"], unique=False)
        batch_op.create_index("ix_otp_audit_event_user_id_at", ["user_id", "at"], unique=False)

    op.create_table(
        "otp_audit_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("otp_audit_key")
    with op.batch_alter_table("otp_audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_audit_event_user_id_at")
        batch_op.drop_index("ix_otp_audit_event_provider_session_id")
        batch_op.drop_index("ix_otp_audit_event_phone_hash_at")
        batch_op.drop_index("ix_otp_audit_event_kind_at")
        batch_op.drop_index("ix_otp_audit_event_country_at")
        batch_op.drop_index(batch_op.f("ix_otp_audit_event_at"))

    op.drop_table("otp_audit_event")
