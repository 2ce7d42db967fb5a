"""The app as several workers on PostgreSQL and Redis, driven in a real browser.

Two granian workers share browser state through Reflex's Redis state manager,
rate limits through `limits` on Redis, and accounts through PostgreSQL (its
schema made by the committed migrations). The sandbox runs in its own process,
as it must once there is more than one worker, and the app reaches it through
the real Plivo wrapper (`OTP_PROVIDER=plivo` with the sandbox's credentials).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services.sh"
PASSWORD = "correct horse battery staple quietly"


def _services() -> tuple[dict[str, str], bool]:
    """Start the test servers (as `scripts/test` does); say whether they were already up."""
    port = os.environ.get("TEST_REDIS_PORT", "26379")  # scripts/services.sh's default
    up = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode == 0
    out = subprocess.run([str(SERVICES), "start"], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.split()), up


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(app URL, sandbox URL) of a two-worker app on PostgreSQL + Redis, in its own copy of the project."""
    urls, already_up = _services()
    database = urls["TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/otp_e2e"
    shared = urls["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/1"
    redis.Redis.from_url(shared).flushdb()
    project = tmp_path_factory.mktemp("scaled") / "app"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in files.split():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "REFLEX_DB_URL": database,
        "REFLEX_REDIS_URL": shared,
        "GRANIAN_WORKERS": "2",
        "RATE_LIMIT_STORAGE_URL": shared,
        "OTP_PROVIDER": "plivo",
        "PLIVO_AUTH_ID": "MASANDBOX00000000000",
        "PLIVO_AUTH_TOKEN": "sandbox-auth-token",
        "PLIVO_API_BASE_URL": sandbox_url,
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
        **PUMPING_OFF,
        "RATE_LIMIT_SEND_PER_NUMBER": "5/hour",
    }
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    migrate(project, env)
    log = (project / "reflex.log").open("w")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "plivo_otp_app.sandbox", "--port", str(sandbox_port)],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        subprocess.Popen(
            [reflex, "run", "--env", "prod", "--single-port", "--backend-port", str(port)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    ]
    try:
        wait_until_up([f"{app_url}/api/health", app_url], processes, project / "reflex.log", 600)
        yield app_url, sandbox_url
    finally:
        stop(processes)
        log.close()
        if not already_up:
            subprocess.run([str(SERVICES), "stop"], check=False)


def _code(sandbox_url: str, e164: str) -> str:
    messages = httpx.get(f"{sandbox_url}/sandbox/messages", params={"recipient": e164}).json()["messages"]
    return next(m["code"] for m in messages if m["code"])


def test_sign_up_and_2fa_login_across_two_workers(page: Page, scaled: tuple[str, str], problems: list[str]):
    app_url, sandbox_url = scaled
    username = f"scale{uuid.uuid4().hex[:8]}"
    e164 = f"+1415555{3000 + uuid.uuid4().int % 999}"
    page.goto(f"{app_url}/signup")
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#phone", e164)
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(sandbox_url, e164))
    page.wait_for_url(f"{app_url}/account**")
    page.click("#enable-2fa")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(sandbox_url, e164))
    expect(page.locator("#two-factor-status")).to_have_text("on")
    page.click("#logout")
    page.wait_for_url(f"{app_url}/login**")
    page.wait_for_function("() => !document.querySelector('#login-submit')?.disabled")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(sandbox_url, e164))
    page.wait_for_url(f"{app_url}/account**")
    expect(page.locator("#account-username")).to_have_text(username)


def test_per_number_limit_holds_across_workers(scaled: tuple[str, str]):
    """Many separate connections (spread over both workers) share one count in Redis."""
    app_url, _ = scaled
    number = f"+1415555{4000 + uuid.uuid4().int % 999}"
    statuses = []
    for _ in range(30):
        with httpx.Client(base_url=app_url, timeout=10) as client:  # a new connection each time
            statuses.append(client.post("/api/otp/send", json={"recipient": number}).status_code)
    assert statuses.count(200) == 5 and statuses.count(429) == 25
