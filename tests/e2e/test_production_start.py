"""The production build never falls back to the sandbox by itself: without credentials and
without `OTP_PROVIDER=sandbox` it refuses to start, and nothing serves the outbox of codes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
from harness import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 600


def test_production_without_a_provider_refuses_to_start(tmp_path: Path):
    port = free_port()
    outbox = f"http://127.0.0.1:{port}/sandbox/messages"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTP_PROVIDER", "PLIVO_", "REFLEX_ENV_MODE"))
    }
    env["REFLEX_DB_URL"] = f"sqlite:///{tmp_path / 'prod.db'}"
    log = tmp_path / "reflex.log"
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    with log.open("w") as out:
        process = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--single-port", "--backend-port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and served is None and time.monotonic() < deadline:
            try:
                served = httpx.get(outbox, timeout=2)
            except httpx.TransportError:
                time.sleep(1)
    finally:
        if process.poll() is None:
            stop([process])
    output = log.read_text()
    assert served is None, f"the outbox was served ({served.status_code}):\n{output[-4000:]}"
    assert process.returncode not in (None, 0), output[-4000:]
    assert "OTP_PROVIDER" in output, output[-4000:]
