"""The split deployment of the README: `reflex export` on a static host, the backend on another origin.

A copy of the project is exported with `REFLEX_API_URL` pointing at a backend-only
server; a small static server (another port) serves the pages with the policy
`python -m plivo_otp_app.security_headers` prints, as the README's nginx snippet does.
The backend lists the static site in REFLEX_CORS_ALLOWED_ORIGINS; a phone is verified
in the browser with no console error, so no policy violation either, and a sign-up
signs in through the backend's cookie route and lands on the static site's /account.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up
from playwright.sync_api import Page, expect
from test_account_flows import ACCOUNT, PASSWORD, _code

from plivo_otp_app.security_headers import COMMON, static_site_policy

ROOT = Path(__file__).resolve().parents[2]


class _StaticHost(http.server.SimpleHTTPRequestHandler):
    """`try_files $uri $uri.html $uri/ /404.html` with the headers a static host must add."""

    policy = ""

    def send_head(self):
        path = self.path.split("?", 1)[0].rstrip("/") or "/index"
        root = Path(self.directory)
        if not (root / path.lstrip("/")).is_file() and (root / f"{path.lstrip('/')}.html").is_file():
            self.path = f"{path}.html"
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.policy)
        for name, value in COMMON.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(static site URL, backend URL, backend URL from here) of an exported frontend and a
    backend-only server: two hosts of one site, as `www.` and `api.example.com` (the browser
    resolves *.split.test to loopback)."""
    project = tmp_path_factory.mktemp("split") / "app"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in files.split():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    backend_port, site_port = free_port(), free_port()
    backend, site = f"http://api.split.test:{backend_port}", f"http://www.split.test:{site_port}"
    local = f"http://127.0.0.1:{backend_port}"
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{project / 'split.db'}",
        "REFLEX_API_URL": backend,
        "REFLEX_CORS_ALLOWED_ORIGINS": site,
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
        **PUMPING_OFF,
        # The production build (export included) runs the sandbox only when told to.
        "OTP_PROVIDER": "sandbox",
    }
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_BASE_URL"):
        env.pop(name, None)
    env["OTP_PROVIDER"] = "sandbox"  # production mode runs the sandbox only when told to
    # The embedded sandbox, reached by loopback: only the browser resolves the *.split.test names.
    env["PLIVO_API_BASE_URL"] = local
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    migrate(project, env)
    subprocess.run(
        [reflex, "export", "--frontend-only", "--no-zip"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    pages = project / ".web" / "build" / "client"
    _StaticHost.policy = static_site_policy(pages, backend)
    static = http.server.ThreadingHTTPServer(
        ("127.0.0.1", site_port), partial(_StaticHost, directory=str(pages))
    )
    threading.Thread(target=static.serve_forever, daemon=True).start()
    log = project / "reflex.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(backend_port)],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up([f"{local}/api/health", f"http://127.0.0.1:{site_port}"], [process], log, 600)
        yield site, backend, local
    finally:
        stop([process])
        static.shutdown()


def test_the_exported_page_verifies_a_phone_against_the_backend_on_another_origin(
    page: Page, split: tuple[str, str, str], problems: list[str]
):
    site, _backend, local = split
    page.goto(site)
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    page.fill("#phone", "(415) 555-2690")
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(local, "+14155552690"))
    expect(page.locator("#verified")).to_be_visible()


def test_a_sign_up_lands_on_the_static_sites_account_page(
    page: Page, split: tuple[str, str, str], problems: list[str]
):
    site, backend, local = split
    with page.expect_request(f"{backend}/api/session/browser?*"):  # the page has no browser cookie yet
        page.goto(f"{site}/signup")
    page.wait_for_url(f"{site}/signup")
    page.wait_for_load_state()
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    page.fill("#username", "splituser")
    page.fill("#password", PASSWORD)
    page.fill("#phone", "(415) 555-2691")
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(local, "+14155552691"))
    page.wait_for_url(f"{site}/account")  # through {backend}/api/session/complete, back to the frontend
    assert ACCOUNT.match(page.url)
    expect(page.locator("#account-username")).to_have_text("splituser")
    names = {c["name"] for c in page.context.cookies()}
    assert {"otp_session", "otp_browser"} <= names
