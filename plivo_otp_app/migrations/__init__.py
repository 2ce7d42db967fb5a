"""The package's own migrations: an alembic script directory with its own version table.

`upgrade(db_url)` brings the `otp_` tables to the newest revision in any database, beside a
host app's own tables and alembic history: the host keeps `alembic_version`, ours is
`otp_alembic_version`. The whole upgrade is one transaction (on SQLite too), and concurrent
upgrades of one database queue for it, so several workers may run it at start.

Two kinds of database get special care before the upgrade:

- one made by the project's old top-level `alembic/` history (`reflex db migrate`), whose
  `alembic_version` holds one of our revision ids, is *adopted*: the revision moves to
  `otp_alembic_version` (and `alembic_version` is dropped if nothing else was in it), and the
  upgrade then renames its tables and indexes, rows and all;
- one with none of our tables gets the schema of the first `otp_` revision directly, instead
  of replaying the old history, whose `user` table would collide with a host app's own.

Importing this module touches no database and reads no environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.pool import NullPool

HERE = Path(__file__).resolve().parent
#: Where our revision is recorded, in whatever database the tables live in.
VERSION_TABLE = "otp_alembic_version"
#: Where the old top-level history (and a host app's own history) records its revision.
LEGACY_VERSION_TABLE = "alembic_version"
#: The first revision with the `otp_` names: a database with none of our tables starts here.
PREFIXED = "8d41c07e5a2b"
_LEGACY = Table(LEGACY_VERSION_TABLE, MetaData(), Column("version_num", String(32), primary_key=True))
#: Key of the PostgreSQL advisory lock that queues concurrent upgrades ("otp" in ASCII).
_PG_LOCK_KEY = 0x6F7470


def upgrade(db_url: str, revision: str = "head") -> None:
    """Bring our tables in the database at `db_url` to `revision`; does nothing if they are there."""
    with _transaction(db_url) as connection:
        config = _config(connection)
        script = ScriptDirectory.from_config(config)
        if not inspect(connection).has_table(VERSION_TABLE):
            legacy = _legacy_revision(connection, script)
            if legacy is not None:
                _adopt(connection, config, legacy)
            elif _passes(script, revision, PREFIXED):
                _create_prefixed_schema(connection, script)
                command.stamp(config, PREFIXED)
        command.upgrade(config, revision)


def current(db_url: str) -> str | None:
    """The revision our tables are at (also in a not yet adopted old database); None if none."""
    engine = _engine(db_url)
    try:
        with engine.connect() as connection:
            if inspect(connection).has_table(VERSION_TABLE):
                context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
                return context.get_current_revision()
            return _legacy_revision(connection, ScriptDirectory.from_config(_config(connection)))
    finally:
        engine.dispose()


def revision(db_url: str, message: str) -> None:
    """Write a new revision script from the difference between the models and the database
    at `db_url` (which must be at head): for the package's maintainers."""
    with _transaction(db_url) as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def is_ours(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Whether autogenerate looks at this table: ours only, never a host app's or a version table."""
    if type_ == "table":
        return bool(name) and str(name).startswith("otp_") and name != VERSION_TABLE
    return True


def include_object(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """`is_ours` for the metadata's side as well: the version table is declared on it (`models`)."""
    return is_ours(name, type_, None)


def _engine(db_url: str) -> Engine:
    """A pool-less engine; on SQLite, one whose transactions really cover DDL and take the write
    lock at once (another upgrade waits up to 5 minutes for it).

    (The sqlite3 driver left alone commits before every CREATE or ALTER, so a failed
    migration would stay half applied.)
    """
    if make_url(db_url).get_backend_name() != "sqlite":
        return create_engine(db_url, poolclass=NullPool)
    engine = create_engine(db_url, poolclass=NullPool, connect_args={"timeout": 300})

    @event.listens_for(engine, "connect")
    def _own_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_writing(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def _transaction(db_url: str) -> Iterator[Connection]:
    """One transaction, which concurrent upgrades of the same database wait for."""
    engine = _engine(db_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            yield connection
    finally:
        engine.dispose()


def _config(connection: Connection) -> Config:
    """An alembic config for our script directory, running on `connection` (see env.py)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _legacy_revision(connection: Connection, script: ScriptDirectory) -> str | None:
    """Our revision in `alembic_version`, where the old history recorded it; None if not there."""
    if not inspect(connection).has_table(LEGACY_VERSION_TABLE):
        return None
    ours = {found.revision for found in script.walk_revisions()}
    rows = connection.execute(select(_LEGACY.c.version_num)).scalars()
    found = [row for row in rows if row in ours]
    if len(found) > 1:
        raise RuntimeError(f"{LEGACY_VERSION_TABLE} holds several of our revisions: {found}")
    return found[0] if found else None


def _adopt(connection: Connection, config: Config, legacy: str) -> None:
    """Move our revision from `alembic_version` to ours; drop that table if it held only ours."""
    command.stamp(config, legacy)
    connection.execute(delete(_LEGACY).where(_LEGACY.c.version_num == legacy))
    if connection.execute(select(func.count()).select_from(_LEGACY)).scalar_one() == 0:
        _LEGACY.drop(connection)


def _passes(script: ScriptDirectory, target: str, wanted: str) -> bool:
    """Whether upgrading to `target` passes through revision `wanted`."""
    return any(found.revision == wanted for found in script.iterate_revisions(target, "base"))


def _create_prefixed_schema(connection: Connection, script: ScriptDirectory) -> None:
    """The tables as revision PREFIXED leaves them, built directly (see its `create_schema`)."""
    module = script.get_revision(PREFIXED).module  # type: ignore[union-attr]
    with Operations.context(MigrationContext.configure(connection)):
        module.create_schema()
