"""The database engine, built once per URL from Reflex's `db_url` (`REFLEX_DB_URL`).

SQLite for one process; PostgreSQL (`postgresql+psycopg://...`) for several workers,
with the pool sized by `DB_POOL_SIZE`, `DB_MAX_OVERFLOW` and `DB_POOL_TIMEOUT`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, create_engine

# SQLite has one writer at a time, and a writer that finds it busy sleeps in steps of up
# to 100 ms before retrying: under concurrent requests that is where the latency tail came
# from. One process-wide lock per SQLite database queues the (sub-millisecond) sessions
# instead. PostgreSQL has row locks and needs none.
_SQLITE_LOCKS: dict[str, threading.RLock] = {}


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

        return engine
    from .config import get_settings  # noqa: PLC0415 - settings only matter for server databases

    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,  # a database that went away and came back is reconnected, not fatal
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
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

    def __init__(self, engine: Engine, lock: threading.RLock, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        self._queue_lock = lock

    def __enter__(self) -> _QueuedSession:
        self._queue_lock.acquire()
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self._queue_lock.release()


def _sqlite_lock(url: str) -> threading.RLock:
    return _SQLITE_LOCKS.setdefault(url, threading.RLock())


def session(url: str | None = None) -> Session:
    """A new ORM session on the configured (or given) database; use it as a context manager."""
    url = url or database_url()
    engine = engine_for(url)
    if url.startswith("sqlite"):
        return _QueuedSession(engine, _sqlite_lock(url), expire_on_commit=False)
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
    with _sqlite_lock(url), engine.begin() as connection:
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
