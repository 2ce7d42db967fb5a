"""Pumping: otp_send_tally, the counts of the conversion watch, the spend budget and the refusals.

Revision ID: 6dac3f7b21c9
Revises: c3e1a9d47b20
Create Date: 2026-12-01 17:23:42.851769

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6dac3f7b21c9"
down_revision: str | Sequence[str] | None = "c3e1a9d47b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "otp_send_tally",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Integer(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "bucket"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("otp_send_tally")
