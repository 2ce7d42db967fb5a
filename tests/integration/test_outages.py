"""A database that cannot be written, and Redis and PostgreSQL going away and coming back,
under the real API.

The database tests open the test database read-only (SQLite `mode=ro`, PostgreSQL
`default_transaction_read_only`), which reads it as usual and refuses every write,
as root too. The server tests run their own throw-away server on a loopback port,
stop it mid-test and start it again. Either way requests fail with a clear 503, no
code is sent or accepted while a dependency is down, and the app recovers without
a restart.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_DATABASE_URL, free_port, sandbox_provider, serve
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from plivo_otp_app import migrations
from plivo_otp_app.api import build_api
from plivo_otp_app.db import transaction
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
needs_servers = pytest.mark.skipif(
    not shutil.which("redis-server") or PG_BIN is None,
    reason="needs Debian's redis-server and postgresql (scripts/test installs them)",
)
PHONE = "+14155552671"


def read_only(db_url: str) -> str:
    """The same database, opened so that it reads as usual and refuses every write."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    options = "-c default_transaction_read_only=on"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Redis:
    """A redis-server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait(lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


class Postgres:
    """A PostgreSQL cluster in a temporary directory, stoppable and restartable."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="otp-test-pg-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "pg"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                f"{PG_BIN}/initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                f"{PG_BIN}/pg_ctl",
                "-D",
                str(self.data),
                "-l",
                f"{self.data}/log",
                "-o",
                options,
                "-w",
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            capture_output=True,
        )


def _wait(ready: Callable[[], object], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    server = Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def api(make_service: Callable[..., VerificationService]) -> Callable[[VerificationService], httpx.Client]:
    servers = []

    def start(service: VerificationService) -> httpx.Client:
        port = free_port()
        servers.append(serve(build_api(lambda: service), port))
        return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15)

    yield start
    for server in servers:
        server.should_exit = True


def _send(client: httpx.Client, number: str = "(415) 555-2671") -> httpx.Response:
    return client.post("/api/otp/send", json={"recipient": number})


@needs_servers
def test_redis_down_fails_sends_closed_and_recovers(redis_server, make_service, api, sandbox):
    client = api(make_service(RATE_LIMIT_STORAGE_URL=redis_server.url))
    assert _send(client).status_code == 200
    redis_server.stop()
    down = _send(client, "(415) 555-2672")
    assert down.status_code == 503 and "temporarily unavailable" in down.json()["error"]
    assert sandbox.store.messages("+14155552672") == []  # no code sent while limits cannot be checked
    redis_server.start()
    assert _send(client, "(415) 555-2672").status_code == 200


@needs_servers
def test_sends_may_fail_open_by_choice_but_checks_never_do(redis_server, make_service, api, sandbox):
    client = api(make_service(RATE_LIMIT_STORAGE_URL=redis_server.url, RATE_LIMIT_SENDS_FAIL_OPEN="1"))
    redis_server.stop()
    sent = _send(client)
    assert sent.status_code == 200  # availability chosen over cost control for sends
    code = sandbox.code_for(PHONE)
    checked = client.post("/api/otp/verify", json={"session_uuid": sent.json()["session_uuid"], "otp": code})
    assert checked.status_code == 503  # attempt limits are a must: checks stay closed
    redis_server.start()


@needs_servers
def test_postgres_down_fails_with_503_and_recovers(postgres, make_settings, api, sandbox):
    migrations.upgrade(postgres.url)
    settings = make_settings()
    provider = sandbox_provider(sandbox.base_url)
    client = api(VerificationService(settings, provider, RateLimits(settings), db_url=postgres.url))
    started = _send(client).json()
    code = sandbox.code_for(PHONE)
    postgres.stop()
    down = client.post("/api/otp/verify", json={"session_uuid": started["session_uuid"], "otp": code})
    assert down.status_code == 503 and "temporarily unavailable" in down.json()["error"]
    assert client.get("/api/health").status_code == 503
    postgres.start()
    assert client.get("/api/health").status_code == 200
    done = client.post("/api/otp/verify", json={"session_uuid": started["session_uuid"], "otp": code})
    assert done.status_code == 200 and done.json()["verified"] is True


def _outbox(sandbox) -> list[dict]:
    """The sandbox's outbox as a phone would see it: over HTTP."""
    return httpx.get(f"{sandbox.base_url}/sandbox/messages").json()["messages"]


def _service_on(url: str, make_settings, sandbox, clock) -> VerificationService:
    settings = make_settings()
    provider = sandbox_provider(sandbox.base_url)
    return VerificationService(settings, provider, RateLimits(settings), db_url=url, clock=clock.now)


def test_a_database_that_cannot_be_written_sends_no_code(db_url, make_settings, api, sandbox, clock):
    client = api(_service_on(read_only(db_url), make_settings, sandbox, clock))
    down = _send(client)
    assert down.status_code == 503 and "temporarily unavailable" in down.json()["error"]
    assert _outbox(sandbox) == []  # refused before the provider was called: no paid, useless code
    writable = api(_service_on(db_url, make_settings, sandbox, clock))
    assert _send(writable).status_code == 200
    assert [m["recipient"] for m in _outbox(sandbox)] == [PHONE]


def test_a_resend_on_a_database_that_cannot_be_written_sends_no_code(
    db_url, make_settings, api, sandbox, clock
):
    started = _send(api(_service_on(db_url, make_settings, sandbox, clock))).json()
    clock.advance(started["resend_after"])
    client = api(_service_on(read_only(db_url), make_settings, sandbox, clock))
    down = client.post("/api/otp/resend", json={"session_uuid": started["session_uuid"]})
    assert down.status_code == 503  # the send slot is claimed (a write) before any send
    assert len(_outbox(sandbox)) == 1


def test_health_is_503_while_the_database_cannot_be_written(db_url, make_settings, api, sandbox, clock):
    assert api(_service_on(db_url, make_settings, sandbox, clock)).get("/api/health").status_code == 200
    down = api(_service_on(read_only(db_url), make_settings, sandbox, clock)).get("/api/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable" and down.json()["error"]


@pytest.mark.skipif(TEST_DATABASE_URL is not None, reason="a SQLite file deleted under the app")
def test_a_database_file_deleted_under_the_app_is_unhealthy_until_it_is_back(
    db_url, make_settings, api, sandbox, clock, tmp_path
):
    path = Path(make_url(db_url).database)
    client = api(_service_on(db_url, make_settings, sandbox, clock))
    assert client.get("/api/health").status_code == 200  # the pool now holds the file open
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    path.unlink()

    health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    down = _send(client)
    assert down.status_code == 503  # not written into the deleted file, to vanish at the next restart
    assert _outbox(sandbox) == []

    shutil.copy(backup, path)  # restored: a new file where the old one was
    assert client.get("/api/health").status_code == 200
    sent = _send(client)
    assert sent.status_code == 200
    with sqlite3.connect(path) as restored:
        rows = restored.execute(
            "SELECT status FROM otp_verification WHERE id = ?", (sent.json()["session_uuid"],)
        )
        assert rows.fetchall() == [("pending",)]


@pytest.mark.skipif(TEST_DATABASE_URL is not None, reason="SQLite's pooled connections")
def test_a_connection_stuck_read_only_is_dropped_not_reused(db_url, make_settings, sandbox, clock):
    service = _service_on(db_url, make_settings, sandbox, clock)
    with transaction(db_url) as db:
        # This pooled connection now refuses writes, as one opened on a read-only file does.
        db.exec_driver_sql("PRAGMA query_only = ON")
    with pytest.raises(OperationalError, match="readonly"):
        service.check_database()
    service.check_database()  # a new connection: the file itself was writable all along
