"""Alembic's environment for the package's migrations.

Run only through `plivo_otp_app.migrations` (`upgrade`, `revision`, the CLI), which opens the
transaction and hands its connection over in `config.attributes["connection"]`. Only our
tables are compared (a host app's tables are its own), and our revision lives in
`otp_alembic_version`, not in the host app's `alembic_version`.
"""

from alembic import context
from sqlmodel import SQLModel

from plivo_otp_app import models
from plivo_otp_app.migrations import VERSION_TABLE, include_object, is_ours

assert models.User  # the tables are registered on SQLModel.metadata

if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    version_table=VERSION_TABLE,
    include_name=is_ours,
    include_object=include_object,
    render_as_batch=True,  # SQLite changes constraints and indexes by copying the table
)
with context.begin_transaction():
    context.run_migrations()
