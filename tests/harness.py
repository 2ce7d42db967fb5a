"""Servers the tests start: a free loopback port, waiting until a server answers, stopping it.

Importable from every test folder as `harness` (pytest puts `tests/` on the path for
`tests/conftest.py`); `conftest` itself cannot be imported from `tests/e2e`, whose own
`conftest` shadows it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

#: The pumping defences switched off (a count or cap of 0 is off): the suite sends many codes
#: to one block that are never verified. `tests/integration/test_pumping.py` tests them, from
#: the real defaults.
PUMPING_OFF = {
    "PUMPING_RANGE_UNVERIFIED": "0",
    "PUMPING_BLOCK_UNVERIFIED": "0",
    "PUMPING_COUNTRY_UNVERIFIED": "0",
    "PUMPING_HOURLY_BUDGET": "0",
    "PUMPING_DAILY_BUDGET": "0",
    "PUMPING_COUNTRY_HOURLY_BUDGET": "0",
    "PUMPING_COUNTRY_DAILY_BUDGET": "0",
    "PUMPING_ADDRESS_SENDS": "0",
    "PUMPING_BURST_SENDS": "0",
}


def migrate(project: Path, env: dict[str, str]) -> None:
    """Create or upgrade the tables as a deployer does: the package's migrate command, run in
    the project directory (its `db_url`, or `REFLEX_DB_URL` in `env`)."""
    command = [sys.executable, "-m", "plivo_otp_app.migrations", "upgrade"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(
    urls: list[str], processes: list[subprocess.Popen[bytes]], log: Path, seconds: float
) -> None:
    """Return once every URL answers 200; raise with the log's tail if a process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError(f"a server exited:\n{log.read_text()[-4000:]}")
        try:
            if all(httpx.get(url, timeout=2).status_code == 200 for url in urls):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{urls} did not answer in {seconds:.0f}s:\n{log.read_text()[-4000:]}")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop each process's group (started with `start_new_session=True`): TERM, then KILL after 20 s."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
