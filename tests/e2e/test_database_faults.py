"""The real server on a SQLite file that cannot be written, at start and mid-run.

`reflex run --env prod --backend-only` (granian, the API and the embedded sandbox)
runs in its own copy of the project on its own database. The file is made
unwritable under it and fixed again, and the server is never restarted: while the
file cannot be written, health and sends answer 503 and no code reaches the
outbox; once it is fixed, sends go through again.

The tests run as root here and in CI, and root ignores file permissions. So the
server runs as root without the capabilities that bypass them (`setpriv
--bounding-set`): a `chmod` then binds it as it binds any deployment's service
user. The immutable flag (`chattr +i`), which binds root too, is tried where the
filesystem and privileges allow it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
REFLEX = str(ROOT / ".venv" / "bin" / "reflex")
PHONE = "+14155552671"
FIXED_WITHIN = 15  # seconds


def _unprivileged() -> list[str]:
    """A command prefix under which file permissions bind the server, also when run by root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [str(setpriv), "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    if setpriv is None or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("needs setpriv (util-linux) and CAP_SETPCAP to drop root's file capabilities")
    return prefix


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project, so the server's build files stay out of the worktree."""
    copy = tmp_path_factory.mktemp("faults") / "app"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in files.split():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    return copy


class Server:
    """One backend on one migrated SQLite file."""

    def __init__(self, project: Path, directory: Path) -> None:
        self.project = project
        self.database = directory / "app.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "reflex.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PLIVO_")},
            "REFLEX_DB_URL": f"sqlite:///{self.database}",
            "OTP_PROVIDER": "sandbox",
            "RATE_LIMIT_SEND_PER_IP": "1000/hour",
            "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
            **PUMPING_OFF,
            "RATE_LIMIT_SEND_PER_NUMBER": "1000/hour",
        }
        migrate(project, self.env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [*_unprivileged(), REFLEX, "run", "--env", "prod", "--backend-only"]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [*command, "--backend-port", str(self.port)],
                cwd=self.project,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up([f"{self.url}/ping"], [self.process], self.log, 120)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/api/health", timeout=30)

    def send(self, number: str = PHONE) -> httpx.Response:
        return httpx.post(f"{self.url}/api/otp/send", json={"recipient": number}, timeout=30)

    def outbox(self) -> list[str]:
        messages = httpx.get(f"{self.url}/sandbox/messages", timeout=10).json()["messages"]
        return [m["recipient"] for m in messages]


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[Server]:
    running = Server(project, tmp_path)
    try:
        yield running
    finally:
        if running.process is not None:
            stop([running.process])


def _eventually(check: Callable[[], bool], seconds: float = FIXED_WITHIN) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.5)


def _refuses_without_sending(server: Server, number: str) -> None:
    before = server.outbox()
    health = server.health()
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    down = server.send(number)
    assert down.status_code == 503 and "error" in down.json()
    assert server.outbox() == before  # no code sent while it could not be recorded


def _recovers(server: Server, number: str) -> None:
    _eventually(lambda: server.health().status_code == 200)
    assert server.send(number).status_code == 200
    assert server.outbox()[0] == number
    assert server.alive()  # the same server: never restarted


def _killed_mid_run(database: Path) -> None:
    """Leave the database as a run of the app that was killed leaves it: in WAL mode, with
    its -wal and -shm files."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('SELECT 1 FROM otp_user').fetchall()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(database)], check=True)
    assert Path(f"{database}-shm").exists()


def test_a_database_unwritable_at_start_is_refused_then_used_once_fixed(server):
    _killed_mid_run(server.database)
    server.database.chmod(0o444)
    server.start()
    _refuses_without_sending(server, PHONE)
    assert server.outbox() == []
    server.database.chmod(0o644)
    _recovers(server, PHONE)


def test_an_unwritable_shm_file_mid_run_is_refused_and_the_server_carries_on(server):
    server.start()
    assert server.send("+14155552672").status_code == 200
    shm = Path(f"{server.database}-shm")
    assert shm.exists()
    shm.chmod(0o000)
    try:
        _refuses_without_sending(server, PHONE)
    finally:
        shm.chmod(0o644)
    _recovers(server, PHONE)


@contextmanager
def _immutable(path: Path) -> Iterator[None]:
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not allowed here (needs CAP_LINUX_IMMUTABLE and ext4/xfs/btrfs)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (e2fsprogs)")
def test_an_immutable_shm_file_mid_run_does_not_kill_the_server(server):
    """Touching SQLite's memory map of an -shm file that turned immutable is a SIGBUS:
    the worker died, and granian stopped the app ("Unexpected exit from worker-1")."""
    server.start()
    assert server.send("+14155552672").status_code == 200
    with _immutable(Path(f"{server.database}-shm")):
        try:
            down = server.send(PHONE)
        except httpx.TransportError:
            pytest.fail(f"the server died:\n{server.log.read_text()[-2000:]}")
        assert down.status_code == 503
        assert server.alive()
        _refuses_without_sending(server, PHONE)
    _recovers(server, PHONE)


def test_a_database_directory_unwritable_at_start_is_refused_then_used_once_fixed(server):
    """SQLite cannot create the -wal file beside the database: every statement fails, the
    connection is dropped, and the one opened once the directory is fixed works."""
    directory = server.database.parent
    directory.chmod(0o555)
    try:
        server.start()
        _refuses_without_sending(server, PHONE)
    finally:
        directory.chmod(0o755)
    _recovers(server, PHONE)
