"""Login tickets bound to the browser that logged in (the hash of its browser cookie).

Revision ID: 5b7c1d2e9f30
Revises: 5224be60eaa6
Create Date: 2026-12-01 12:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


# revision identifiers, used by Alembic.
revision: str = '5b7c1d2e9f30'
down_revision: Union[str, Sequence[str], None] = '5224be60eaa6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('loginticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('loginticket', schema=None) as batch_op:
        batch_op.drop_column('browser_hash')
