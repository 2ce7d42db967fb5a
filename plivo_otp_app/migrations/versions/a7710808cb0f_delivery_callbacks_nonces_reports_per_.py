"""Delivery callbacks: otp_callback_nonce (each signed callback's nonce, once), otp_delivery_report
(one row per attempt and status) and otp_channel_fallback (one fallback per provider session).

Revision ID: a7710808cb0f
Revises: e7c4b19a0d35
Create Date: 2026-12-01 20:35:51.241375

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7710808cb0f"
down_revision: str | Sequence[str] | None = "e7c4b19a0d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "otp_callback_nonce",
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("otp_callback_nonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_callback_nonce_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "otp_channel_fallback",
        sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("verification_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider_session_id"),
    )
    op.create_table(
        "otp_delivery_report",
        sa.Column("attempt_uuid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_uuid", "status"),
    )
    with op.batch_alter_table("otp_delivery_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_otp_delivery_report_provider_session_id"), ["provider_session_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("otp_delivery_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_delivery_report_provider_session_id"))

    op.drop_table("otp_delivery_report")
    op.drop_table("otp_channel_fallback")
    with op.batch_alter_table("otp_callback_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_callback_nonce_seen_at"))

    op.drop_table("otp_callback_nonce")
