"""A second, tiny Reflex app built from the package's state, components and API routes,
exactly as the README's embedding snippet shows, verified in a real browser."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from reflex.testing import AppHarness

ROOT = Path(__file__).resolve().parents[2]


def AcmeApp() -> None:
    """The README's embedding snippet; AppHarness writes this body as the app module."""
    import reflex as rx

    from plivo_otp_app.api import build_api
    from plivo_otp_app.components import verification_flow
    from plivo_otp_app.state import VerifyState

    def verify_phone() -> rx.Component:
        return rx.el.main(rx.el.h1("Acme: confirm your phone"), verification_flow())

    app = rx.App(api_transformer=build_api())
    app.add_page(verify_phone, route="/", on_load=VerifyState.reset_flow)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppHarness]:
    """Run the tiny app with AppHarness (backend in this process, Vite dev server)."""
    monkeypatch = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("acme-db") / "acme.db"
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{db}")
    # The dev server's port is only known once it runs, so the socket may come from any origin here.
    monkeypatch.setenv("REFLEX_CORS_ALLOWED_ORIGINS", "*")
    monkeypatch.syspath_prepend(str(ROOT))
    from plivo_otp_app import migrations

    migrations.upgrade(f"sqlite:///{db}")  # the tables, as the README tells a host app to
    try:
        with AppHarness.create(root=tmp_path_factory.mktemp("acme"), app_source=AcmeApp) as harness:
            yield harness
    finally:
        monkeypatch.undo()
        for name in [m for m in sys.modules if m == "acmeapp" or m.startswith("acmeapp.")]:
            del sys.modules[name]


def test_embedded_flow_verifies_a_phone(acme: AppHarness, page: Page):
    assert acme.frontend_url is not None
    page.goto(acme.frontend_url)
    expect(page.locator("h1")).to_have_text("Acme: confirm your phone")
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    page.fill("#phone", "(415) 555-2690")
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()
    backend = acme.backend_url if hasattr(acme, "backend_url") else None
    from reflex.config import get_config

    base = backend or get_config().api_url
    messages = httpx.get(f"{base}/sandbox/messages", params={"recipient": "+14155552690"}).json()["messages"]
    page.fill("#otp", messages[0]["code"])
    expect(page.locator("#verified")).to_contain_text("+1******2690")
    health = httpx.get(f"{base}/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
