"""The account page's own security events (`#security-events`) in a real browser: what the account
did, newest first, in the reader's language; never another account's."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct horse battery staple quietly"
ACCOUNT = re.compile(r".*/account/?$")
SHOTS = Path(__file__).resolve().parents[2] / ".web" / "security-events-shots"


def _code(app_url: str, e164: str) -> str:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return next(m["code"] for m in response.json()["messages"] if m["code"])


def _sign_up(page: Page, app_url: str, username: str, e164: str) -> None:
    page.goto(f"{app_url}/signup")
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#phone", f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}")
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(app_url, e164))
    page.wait_for_url(ACCOUNT)
    expect(page.locator("#account-username")).to_have_text(username)


def _labels(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#security-events li .event-name").all_inner_texts()]


def test_the_account_lists_its_own_events_newest_first(app: Page, app_url: str, browser: Browser):
    _sign_up(app, app_url, "events3101", "+14155563101")
    events = app.locator("#security-events")
    expect(events.locator("li")).to_have_count(2)
    assert _labels(app) == ["Code accepted", "Code sent"]
    expect(events.locator("li").first).to_contain_text("127.0.0.1")
    expect(events.locator("li").first.locator(".masked")).to_have_text("+1 ******3101")

    app.click("#enable-2fa")
    expect(app.locator("#otp")).to_be_visible()
    app.fill("#otp", _code(app_url, "+14155563101"))
    expect(app.locator("#two-factor-status")).to_have_text("on")
    app.reload()
    expect(events.locator("li").first).to_contain_text("Two-factor login turned on")
    assert _labels(app)[:3] == ["Two-factor login turned on", "Code accepted", "Code sent"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    app.locator("#security-events").scroll_into_view_if_needed()
    app.screenshot(path=str(SHOTS / "account-en.png"), full_page=True)

    # The labels are the reader's language's.
    app.select_option("#language", "es")
    expect(events.locator("li").first).to_contain_text("Inicio de sesión en dos pasos activado")
    app.select_option("#language", "ar")
    expect(events.locator("li").first).to_contain_text("فُعّل تسجيل الدخول بخطوتين")
    app.screenshot(path=str(SHOTS / "account-ar.png"), full_page=True)
    app.set_viewport_size({"width": 320, "height": 800})  # a phone: the list wraps, nothing scrolls sideways
    app.locator("#security-events").scroll_into_view_if_needed()
    assert app.evaluate("document.documentElement.scrollWidth") <= 320
    app.screenshot(path=str(SHOTS / "account-ar-320.png"))

    # Another account, in another browser, sees its own events only.
    context = browser.new_context()
    try:
        other = context.new_page()
        _sign_up(other, app_url, "events3102", "+14155563102")
        expect(other.locator("#security-events li")).to_have_count(2)
        expect(other.locator("#security-events")).not_to_contain_text("3101")
        expect(other.locator("#security-events")).not_to_contain_text("Two-factor")
    finally:
        context.close()
