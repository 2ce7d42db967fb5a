"""The database engine, built once per URL from Reflex's `db_url` (`REFLEX_DB_URL`).

SQLite for one process; PostgreSQL (`postgresql+psycopg://...`) for several workers,
with the pool sized by `DB_POOL_SIZE`, `DB_MAX_OVERFLOW` and `DB_POOL_TIMEOUT`.

A SQLite file is checked before every use (`_SqliteFile`): one that cannot be
written, was deleted or was replaced under the running app fails the request with
`DatabaseUnavailable` (a 503) instead of being touched. That matters beyond the
error: SQLite maps its `-shm` file into memory, and touching that mapping once the
file has turned unwritable kills the process with SIGBUS, which no handler catches.
When the file is fixed, the next request uses it again: connections that failed on
a read-only or unopenable file are dropped from the pool, not kept.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

# SQLite has one writer at a time, and a writer that finds it busy sleeps in steps of up
# to 100 ms before retrying: under concurrent requests that is where the latency tail came
# from. One process-wide lock per SQLite database queues the (sub-millisecond) sessions
# instead. PostgreSQL has row locks and needs none.
_SQLITE_LOCKS: dict[str, threading.RLock] = {}
#: SQLite failures after which a connection is not reused: it may have opened the file
#: read-only, or not at all, and would stay that way after the file is fixed.
_BROKEN_SQLITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR")


class DatabaseUnavailable(SQLAlchemyError):
    """The database file is missing, was replaced, or cannot be written."""


class _SqliteFile:
    """The file under one SQLite engine, checked before each use, without opening it.

    (Opening and closing a descriptor of a database file would drop SQLite's own
    locks on it, so only `stat` and `access` are used.)
    """

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.identity: tuple[int, int] | None = None  # (device, inode) the pool has open

    def check(self) -> None:
        """Raise `DatabaseUnavailable` unless the file (and its -wal and -shm) can be written."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self.identity is not None:
                raise DatabaseUnavailable(f"the database file {self.path} is gone") from None
            return  # never opened yet: SQLite creates it
        except OSError as exc:
            raise DatabaseUnavailable(f"the database file {self.path}: {exc.strerror}") from None
        for name in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            if not os.access(name, os.W_OK) and name.exists():
                raise DatabaseUnavailable(f"{name} cannot be written")
        identity = (stat.st_dev, stat.st_ino)
        if self.identity not in (None, identity):
            # Replaced (restored from a backup, say): the pooled connections still
            # have the old file open and would write into it.
            self.engine.dispose()
        self.identity = identity


_SQLITE_FILES: dict[str, _SqliteFile] = {}


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite:///path` or `sqlite:///file:path?uri=true`); None in memory."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.query.get("mode") == "memory" or database in ("", ":memory:"):
        return None
    return Path(database.removeprefix("file:")).absolute()


@functools.cache
def engine_for(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout for concurrent writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: no fsync per commit, still never corrupt; a power cut may
            # lose the last few commits (an unfinished OTP flow), not the database.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "handle_error")
        def _drop_broken(context: ExceptionContext) -> None:
            name = getattr(context.original_exception, "sqlite_errorname", "")
            if name.startswith(_BROKEN_SQLITE):
                context.is_disconnect = True

        path = _sqlite_file(url)
        if path is not None:
            _SQLITE_FILES[url] = _SqliteFile(path, engine)
        return engine
    from .config import get_settings  # noqa: PLC0415 - settings only matter for server databases

    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,  # a database that went away and came back is reconnected, not fatal
        pool_size=settings.infra.db_pool_size,
        max_overflow=settings.infra.db_max_overflow,
        pool_timeout=settings.infra.db_pool_timeout,
    )


def database_url() -> str:
    """The configured database URL."""
    from reflex.config import get_config  # noqa: PLC0415 - keep Reflex out of import time

    url = get_config().db_url
    if not url:
        raise RuntimeError("db_url is not configured (set REFLEX_DB_URL)")
    return url


class _QueuedSession(Session):
    """A session that holds its SQLite database's process lock while it is open."""

    def __init__(self, engine: Engine, url: str, lock: threading.RLock, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        self._url = url
        self._queue_lock = lock

    def __enter__(self) -> _QueuedSession:
        self._queue_lock.acquire()
        try:
            _check_sqlite_file(self._url)
        except BaseException:
            self._queue_lock.release()
            raise
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self._queue_lock.release()


def _sqlite_lock(url: str) -> threading.RLock:
    return _SQLITE_LOCKS.setdefault(url, threading.RLock())


def _check_sqlite_file(url: str) -> None:
    """Refuse a SQLite file that cannot be used (with its process lock held)."""
    guard = _SQLITE_FILES.get(url)
    if guard is not None:
        guard.check()


def session(url: str | None = None) -> Session:
    """A new ORM session on the configured (or given) database; use it as a context manager."""
    url = url or database_url()
    engine = engine_for(url)
    if url.startswith("sqlite"):
        return _QueuedSession(engine, url, _sqlite_lock(url), expire_on_commit=False)
    return Session(engine, expire_on_commit=False)


@contextmanager
def transaction(url: str | None = None) -> Iterator[Connection]:
    """One Core transaction, committed on success and rolled back on error.

    For the hot paths: a Core connection with prebuilt statements costs a fraction
    of an ORM session (no identity map, no statement building per call).
    """
    url = url or database_url()
    engine = engine_for(url)
    if not url.startswith("sqlite"):
        with engine.begin() as connection:
            yield connection
        return
    with _sqlite_lock(url):
        _check_sqlite_file(url)
        with engine.begin() as connection:
            yield connection


@contextmanager
def autocommit(url: str | None = None) -> Iterator[Connection]:
    """A connection for work that is one statement (a conditional UPDATE, a lookup), which
    is atomic on its own: on PostgreSQL each statement commits by itself, saving the BEGIN
    and COMMIT round trips. SQLite has no round trips to save and keeps its transaction.
    """
    url = url or database_url()
    if url.startswith("sqlite"):
        with transaction(url) as connection:
            yield connection
        return
    with engine_for(url).connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")
