"""Challenges: otp_challenge_key (the signing key) and otp_challenge_spent (solutions already taken).

Revision ID: e7c4b19a0d35
Revises: a2abe266e4af
Create Date: 2026-12-01 21:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e7c4b19a0d35"
down_revision: str | Sequence[str] | None = "a2abe266e4af"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "otp_challenge_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "otp_challenge_spent",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_challenge_spent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_otp_challenge_spent_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("otp_challenge_spent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_challenge_spent_expires_at"))
    op.drop_table("otp_challenge_spent")
    op.drop_table("otp_challenge_key")
