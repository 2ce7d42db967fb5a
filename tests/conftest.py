"""Shared fixtures: a real sandbox over HTTP, a real SQLite database, a movable clock.

The sandbox runs in uvicorn on a loopback port, and the real `plivo` SDK talks
to it through the app's wrapper: nothing in the provider path is mocked.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)  # Reflex finds rxconfig.py in the working directory.
for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_BASE_URL", "OTP_PROVIDER"):
    os.environ.pop(name, None)
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import uvicorn  # noqa: E402
from harness import PUMPING_OFF, free_port  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from plivo_otp_app import migrations  # noqa: E402
from plivo_otp_app.config import (  # noqa: E402
    SANDBOX_AUTH_ID,
    SANDBOX_AUTH_TOKEN,
    ProviderSettings,
    Settings,
    load_settings,
)
from plivo_otp_app.db import engine_for  # noqa: E402
from plivo_otp_app.providers import PlivoProvider  # noqa: E402
from plivo_otp_app.ratelimit import RateLimits  # noqa: E402
from plivo_otp_app.sandbox.api import build_routes  # noqa: E402
from plivo_otp_app.sandbox.store import SandboxStore  # noqa: E402
from plivo_otp_app.services import Services, SessionService, VerificationService, compose  # noqa: E402

SANDBOX_HANG_SECONDS = 3.0
#: Set by `scripts/test` for its second run: the same tests on PostgreSQL and Redis.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
#: Generous limits, so that only the tests about limits meet one.
RELAXED = {
    "RATE_LIMIT_SEND_PER_NUMBER": "1000/hour",
    "RATE_LIMIT_SEND_PER_IP": "1000/hour",
    "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
    "RATE_LIMIT_SEND_PER_ACCOUNT": "1000/hour",
    "RATE_LIMIT_VERIFY_PER_IP": "1000/hour",
    "RATE_LIMIT_LOGIN_PER_IP": "1000/hour",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": "1000/hour",
}


def run_at_once(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released together; results or exceptions, in order."""
    barrier = threading.Barrier(count, timeout=10)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@dataclass
class Clock:
    """A clock tests can move; serves both the service (datetime) and the sandbox (float)."""

    offset: float = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Sandbox:
    """A running sandbox: its URL and its store."""

    base_url: str
    store: SandboxStore
    server: uvicorn.Server = field(repr=False)

    def code_for(self, e164: str) -> str:
        """The newest code delivered to `e164`."""
        return self.store.messages(e164)[0].code


def serve(app: Starlette, port: int) -> uvicorn.Server:
    """Run `app` with uvicorn in a daemon thread; returns once it accepts connections."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return server


def sandbox_provider(
    base_url: str, code_length: int | None = None, read_timeout: float = 1.0
) -> PlivoProvider:
    """The real Plivo wrapper pointed at `base_url` with the sandbox credentials, 1 s timeouts
    (a longer read timeout for the races, whose bursts may keep the in-process sandbox busy)."""
    return PlivoProvider(
        SANDBOX_AUTH_ID,
        SANDBOX_AUTH_TOKEN,
        base_url,
        connect_timeout=1.0,
        read_timeout=read_timeout,
        code_length=code_length,
    )


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """One sandbox for the session; `sandbox` resets it per test."""
    store = SandboxStore(expiry_seconds=300)
    port = free_port()
    app = Starlette(routes=build_routes(store, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, SANDBOX_HANG_SECONDS))
    server = serve(app, port)
    yield Sandbox(f"http://127.0.0.1:{port}", store, server)
    server.should_exit = True


@pytest.fixture
def clock() -> Clock:
    """A clock at the real time, movable by the test."""
    return Clock()


@pytest.fixture
def sandbox(sandbox_server: Sandbox, clock: Clock) -> Sandbox:
    """The sandbox, emptied, on the test's clock."""
    sandbox_server.store.clear()
    sandbox_server.store.clock = clock.time
    sandbox_server.store.expiry_seconds = 300
    return sandbox_server


def one_verify_application(settings: Settings) -> Settings:
    """The settings as with Plivo itself and no `PLIVO_ACCOUNT_APP_UUID`: every code in one Verify
    application. (The providers the tests build talk to the sandbox whatever the settings say.)"""
    plivo = dataclasses.replace(
        settings.provider.plivo, auth_id=SANDBOX_AUTH_ID, auth_token=SANDBOX_AUTH_TOKEN
    )
    return dataclasses.replace(settings, provider=ProviderSettings(name="plivo", plivo=plivo))


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Settings from env-style overrides, e.g. `make_settings(OTP_MAX_ATTEMPTS="3")`, with the
    pumping defences off unless a test names them."""

    def make(**env: str) -> Settings:
        defaults = {"RATE_LIMIT_STORAGE_URL": TEST_REDIS_URL} if TEST_REDIS_URL else {}
        return load_settings({**defaults, **PUMPING_OFF, **env})

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The defaults, as a fresh deployment has them (but for the pumping defences)."""
    return make_settings()


_SCHEMA_BUILT: list[bool] = []


def _fresh_postgres_schema(url: str) -> None:
    """The package's migrations, run anew once per test run: the test server outlives a run,
    and an earlier run's tables may lack a column added since."""
    if not _SCHEMA_BUILT:
        with engine_for(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        migrations.upgrade(url)
        _SCHEMA_BUILT.append(True)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the package's migrations built, once per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    migrations.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, _migrated_sqlite: Path) -> str:
    """A fresh migrated database: SQLite per test, or the emptied PostgreSQL one."""
    if TEST_DATABASE_URL:
        _fresh_postgres_schema(TEST_DATABASE_URL)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine_for(TEST_DATABASE_URL).begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return TEST_DATABASE_URL
    path = tmp_path / "test.db"
    shutil.copyfile(_migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """`new_database("sqlite" | "postgresql")`: the URL of a new, empty database of its own.

    A PostgreSQL one is created on TEST_DATABASE_URL's server and dropped afterwards; without
    TEST_DATABASE_URL the test is skipped.
    """
    created: list[str] = []
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT") if TEST_DATABASE_URL else None

    def new(dialect: str) -> str:
        if dialect == "sqlite":
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:12]}.db'}"
        if admin is None:
            pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
        name = f"otp_migrations_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    yield new
    if admin is not None:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _empty_redis() -> None:
    """Every test starts with no rate-limit counts in the shared Redis."""
    if TEST_REDIS_URL:
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def provider(sandbox: Sandbox, settings: Settings) -> PlivoProvider:
    """The real Plivo wrapper pointed at the sandbox, with short timeouts."""
    return sandbox_provider(sandbox.base_url, settings.otp.code_length)


@pytest.fixture
def make_service(
    sandbox: Sandbox, db_url: str, clock: Clock, make_settings: Callable[..., Settings]
) -> Callable[..., VerificationService]:
    """A service on the sandbox and a fresh database, with settings overrides."""

    def make(**env: str) -> VerificationService:
        settings = make_settings(**env)
        read_timeout = settings.provider.plivo.read_timeout if "PLIVO_READ_TIMEOUT" in env else 1.0
        provider = sandbox_provider(sandbox.base_url, settings.otp.code_length, read_timeout)
        return VerificationService(settings, provider, RateLimits(settings), db_url=db_url, clock=clock.now)

    return make


@pytest.fixture
def service(make_service: Callable[..., VerificationService]) -> VerificationService:
    """A service with the default settings."""
    return make_service()


@pytest.fixture
def make_accounts(
    make_service: Callable[..., VerificationService], db_url: str, clock: Clock
) -> Callable[..., Services]:
    """The account services (with their verification and session services) on the test database."""

    def make(**env: str) -> Services:
        verifications = make_service(**env)
        sessions = SessionService(verifications.settings, db_url=db_url, clock=clock.now)
        return compose(verifications.settings, verifications, sessions, db_url=db_url, clock=clock.now)

    return make


@pytest.fixture
def accounts(make_accounts: Callable[..., Services]) -> Services:
    """The account services with the default settings."""
    return make_accounts()
