"""Operators: otp_user.role ("user" or "admin") and otp_group_flag, the lifted and extended blocks.

Revision ID: b7f4c2d9e1a3
Revises: a7710808cb0f
Create Date: 2026-12-01 20:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7f4c2d9e1a3"
down_revision: str | Sequence[str] | None = "a7710808cb0f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="user"
            )
        )
    op.create_table(
        "otp_group_flag",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    with op.batch_alter_table("otp_group_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_group_flag_until"), ["until"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("otp_group_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_group_flag_until"))
    op.drop_table("otp_group_flag")
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.drop_column("role")
