"""The built app, run the way a deployer runs it, driven by Playwright in Debian's Chromium.

`reflex run --env prod --single-port` serves the exported frontend and the
backend (with the embedded sandbox) on one loopback port. Tests read codes from
the sandbox outbox over HTTP, as a person would read their phone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up
from playwright.sync_api import Page

# Every state of the library registers now, in Reflex's base registration context: each in-process
# AppHarness app works in a fork of that context, so a state first imported by one harness's app
# would be missing from every later app's state tree (its page then fails to render).
import plivo_otp_app.state  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 600
#: The frontend of a split deployment, served elsewhere: listed in REFLEX_CORS_ALLOWED_ORIGINS.
EXTRA_ORIGIN = "http://frontend.example:5173"
#: Sends to these numbers are always challenged in the suite's app.
CHALLENGED_PREFIX = "+1312"
#: The only address whose X-Forwarded-* headers the app believes.
PROXY_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="session")
def app_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The running app's database, for tests that work on it as an operator's commands do."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'e2e.db'}"


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory, app_db_url: str) -> Iterator[tuple[str, Path]]:
    """Start the app once for the session; its URL and the file of its output (stdout and stderr)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("app") / "reflex.log"
    env = {
        **os.environ,
        "REFLEX_DB_URL": app_db_url,
        # Not the app's own origin: the page may open its socket on any port without being listed.
        "REFLEX_CORS_ALLOWED_ORIGINS": EXTRA_ORIGIN,
        # The browser (127.0.0.1) is a client that reaches the app port directly; only 127.0.0.2 is a proxy.
        "REFLEX_TRUSTED_PROXY_HOPS": "1",
        "TRUSTED_PROXIES": PROXY_ADDRESS,
        "OTP_RESEND_COOLDOWN_SECONDS": "3",
        "PLIVO_READ_TIMEOUT": "2",
        "SANDBOX_HANG_SECONDS": "4",
        # Every test runs from 127.0.0.1 on numbers of one block: raise the per-address caps.
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
        "RATE_LIMIT_VERIFY_PER_IP": "1000/hour",
        "RATE_LIMIT_LOGIN_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_NUMBER": "50/hour",
        "RATE_LIMIT_SEND_PER_ACCOUNT": "50/hour",  # login and 2FA codes, per account
        "OTP_LOCKOUT_AFTER": "3",
        # Nor may the pumping defences refuse the suite's many unverified codes to one block.
        **PUMPING_OFF,
        # Numbers of +1312 always need the challenge (tests/e2e/test_challenge.py).
        "PUMPING_CHALLENGE_PREFIXES": CHALLENGED_PREFIX,
        # The production build runs the sandbox only when told to.
        "OTP_PROVIDER": "sandbox",
    }
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_BASE_URL"):
        env.pop(name, None)
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    migrate(ROOT, env)
    with logs.open("w") as out:
        process = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--single-port", "--backend-port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up([f"{url}/api/health", url], [process], logs, START_TIMEOUT)
        yield url, logs
    finally:
        stop([process])


@pytest.fixture(scope="session")
def app_url(app_server: tuple[str, Path]) -> str:
    """The running app's URL."""
    return app_server[0]


@pytest.fixture(scope="session")
def app_log(app_server: tuple[str, Path]) -> Path:
    """Everything the running app writes, as an operator's log collector would get it."""
    return app_server[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium; Playwright cannot download its own here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # The split deployment's two hosts of one site (tests/e2e/test_split_deployment.py).
            "--host-resolver-rules=MAP *.split.test 127.0.0.1",
        ],
    }


@pytest.fixture
def problems(page: Page) -> Iterator[list[str]]:
    """Page errors, console errors and failed requests; every test must end with none."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(f"pageerror: {error}"))
    page.on("console", lambda msg: found.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("requestfailed", lambda request: found.append(f"requestfailed: {request.url}"))
    page.on(
        "response",
        lambda response: (
            found.append(f"http {response.status}: {response.url}") if response.status >= 400 else None
        ),
    )
    yield found
    assert found == [], found


@pytest.fixture
def app(page: Page, app_url: str, problems: list[str]) -> Page:
    """The verification page, loaded and hydrated."""
    page.goto(app_url)
    page.wait_for_selector("#phone")
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    return page
