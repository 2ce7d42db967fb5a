"""Usernames in any script: `username` holds the PRECIS canonical form, `display_username` the shown one.

Every existing username is converted to its canonical form (RFC 8265 UsernameCaseMapped,
as `plivo_otp_app/usernames.py` computes it), under the unique index it already has, and
its display form (UsernameCasePreserved) goes into the new `display_username`. Names made
by the old rules (ASCII lower case, digits, `.`, `_`, `-`) are already canonical and stay
as they are.

Rows written some other way may not convert: two names that become one ("John" and "john",
a fullwidth "john" and "john"), which would let each log in as the other, or a name PRECIS
refuses. No account is renamed silently: the upgrade stops, names the rows, and changes
nothing (it is one transaction); the operator renames all but one of each group (or the
refused name) and upgrades again. A downgrade drops `display_username`; names stay canonical.

Revision ID: c3e1a9d47b20
Revises: 8d41c07e5a2b
Create Date: 2026-12-01 17:45:00.000000

"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import precis_i18n
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c3e1a9d47b20"
down_revision: str | Sequence[str] | None = "8d41c07e5a2b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USER = sa.table(
    "otp_user", sa.column("id", sa.Integer), sa.column("username"), sa.column("display_username")
)


def upgrade() -> None:
    """Add `display_username`, fill it, and convert every username to its canonical form."""
    bind = op.get_bind()
    query = sa.select(_USER.c.id, _USER.c.username).order_by(_USER.c.id)
    rows = [(row.id, row.username) for row in bind.execute(query)]
    converted = _converted(rows)
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("display_username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    # No row is renamed onto another's current name: that one would have the same canonical form.
    for (user_id, old), (canonical, display) in zip(rows, converted, strict=True):
        values = {"display_username": display} | ({"username": canonical} if canonical != old else {})
        bind.execute(sa.update(_USER).where(_USER.c.id == user_id).values(**values))
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.alter_column(
            "display_username", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )


def downgrade() -> None:
    """Drop `display_username` (the usernames keep their canonical form)."""
    with op.batch_alter_table("otp_user", schema=None) as batch_op:
        batch_op.drop_column("display_username")


def _converted(rows: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """Each row's (canonical, display) username; a RuntimeError naming every row that cannot convert."""
    mapped = precis_i18n.get_profile("UsernameCaseMapped")
    preserved = precis_i18n.get_profile("UsernameCasePreserved")
    converted: list[tuple[str, str]] = []
    refused: list[str] = []
    owners: defaultdict[str, list[int]] = defaultdict(list)
    for user_id, name in rows:
        try:
            canonical, display = mapped.enforce(name), preserved.enforce(name)
        except UnicodeEncodeError as exc:
            refused.append(f"id {user_id} {name!r} ({exc.reason})")
            continue
        converted.append((canonical, display))
        owners[canonical].append(user_id)
    collisions = [f"ids {ids} -> {name!r}" for name, ids in owners.items() if len(ids) > 1]
    if refused or collisions:
        raise RuntimeError(
            "otp_user: usernames that cannot take their PRECIS (RFC 8265) form; rename them"
            " (all but one of each group that becomes one name) and upgrade again."
            + (f" Refused: {'; '.join(refused)}." if refused else "")
            + (f" Would become one name: {'; '.join(collisions)}." if collisions else "")
        )
    return converted
