"""`scripts/run` as a newcomer runs it, in a fresh clone: twice in dev mode with Ctrl-C in
between, then the production build. Each run sends a code and verifies it from the sandbox
outbox (held in the backend's memory, so a backend that restarted has lost it), and in the
end the clone's tracked files are as they were checked out.

Slow: the first run installs the frontend's packages and the last one builds the frontend.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from harness import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 900
#: Long enough for a reload caused by the send's database writes to have restarted the backend.
RELOAD_GRACE = 5


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this checkout, uncommitted changes included, sharing its venv."""
    target = tmp_path / "plivo-otp-app"
    _git(tmp_path, "clone", "-q", str(ROOT), str(target))
    diff = subprocess.run(["git", "diff", "--binary", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    if diff.stdout:
        _git(target, "apply", "--binary", "-", stdin=diff.stdout)
    for name in _git(ROOT, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if name and name != ".venv":
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    if _git(target, "status", "--porcelain"):
        _git(target, "add", "-A")
        _git(target, "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "wip")
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    return target


def _env() -> dict[str, str]:
    """The caller's environment without anything that would choose for the script."""
    chosen = ("OTP_PROVIDER", "PLIVO_", "REFLEX_DB_URL", "REFLEX_ENV_MODE", "REFLEX_HOT_RELOAD_")
    return {name: value for name, value in os.environ.items() if not name.startswith(chosen)}


@contextmanager
def _scripts_run(project: Path, log: Path, urls: list[str], *args: str) -> Iterator[None]:
    """`scripts/run ARGS`, up once every URL answers, until the block ends; then Ctrl-C to its group."""
    with log.open("w") as out:
        process = subprocess.Popen(
            ["scripts/run", *args],
            cwd=project,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(urls, [process], log, START_TIMEOUT)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop([process])
            pytest.fail(f"scripts/run did not stop on Ctrl-C:\n{log.read_text()[-4000:]}")


def _send_and_verify(api: str, number: str, log: Path) -> None:
    """Send a code, give a reload time to happen, then read it from the outbox and verify it."""
    sent = httpx.post(f"{api}/api/otp/send", json={"recipient": number, "country": "US"}, timeout=30)
    assert sent.status_code == 200, sent.text
    time.sleep(RELOAD_GRACE)
    try:
        outbox = httpx.get(f"{api}/sandbox/messages", params={"recipient": sent.json()["recipient"]}).json()
    except httpx.TransportError as error:
        pytest.fail(f"the backend went away after a send ({error}):\n{log.read_text()[-4000:]}")
    assert outbox["messages"], f"the outbox lost the code: the backend restarted\n{log.read_text()[-4000:]}"
    checked = httpx.post(
        f"{api}/api/otp/verify",
        json={"session_uuid": sent.json()["session_uuid"], "otp": outbox["messages"][0]["code"]},
    )
    assert checked.status_code == 200 and checked.json()["verified"] is True, checked.text


def test_scripts_run_twice_then_in_production_leaves_the_clone_clean(clone: Path, tmp_path: Path):
    frontend, backend = free_port(), free_port()
    api = f"http://127.0.0.1:{backend}"
    for run, number in enumerate(["(415) 555-2671", "(415) 555-2672"], start=1):
        log = tmp_path / f"dev-{run}.log"
        urls = [f"{api}/api/health", f"http://127.0.0.1:{frontend}/"]
        with _scripts_run(clone, log, urls, "--frontend-port", str(frontend), "--backend-port", str(backend)):
            _send_and_verify(api, number, log)
        if run == 2:
            assert "Initializing" not in log.read_text(), "the second run set the project up again"

    port = free_port()
    app = f"http://127.0.0.1:{port}"
    prod = ("--env", "prod", "--single-port", "--backend-port", str(port))
    log = tmp_path / "prod.log"
    with _scripts_run(clone, log, [f"{app}/api/health", app], *prod):
        _send_and_verify(app, "(415) 555-2673", log)

    assert _git(clone, "status", "--porcelain") == ""
