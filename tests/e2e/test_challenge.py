"""A challenged send in a real browser: the page solves the proof of work by itself and sends.

The suite's app challenges every send to +1312 (`CHALLENGED_PREFIX`); the `problems`
fixture fails on any console error, so the widget's stylesheet and workers run under the
page's CSP as it is sent.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


def test_a_challenged_send_goes_through_with_no_user_action(app: Page, app_url: str):
    app.select_option("#country", "US")
    app.fill("#phone", "312 555 0178")
    app.click("#send-otp")
    status = app.locator("#challenge-status")
    expect(status).to_have_text("Checking your browser…")
    expect(app.locator("#send-otp")).to_be_disabled()
    expect(app.locator("#otp")).to_be_visible(timeout=20_000)  # solved, then sent: nobody clicked
    expect(status).to_have_count(0)
    expect(app.locator("#error")).to_have_count(0)
    (message,) = _outbox(app_url, "+13125550178")
    app.fill("#otp", message["code"])
    expect(app.locator("#verified")).to_contain_text("Phone number verified")


def test_a_challenged_resend_is_solved_too(app: Page, app_url: str):
    app.select_option("#country", "US")
    app.fill("#phone", "312 555 0179")
    app.click("#send-otp")
    expect(app.locator("#otp")).to_be_visible(timeout=20_000)
    resend = app.locator("#resend-otp")
    expect(resend).to_be_enabled(timeout=10_000)  # the suite's 3 s cooldown
    resend.click()
    expect(app.locator("#message")).to_contain_text("texting a 6-digit code", timeout=20_000)
    assert len(_outbox(app_url, "+13125550179")) == 2


def test_a_signup_held_for_a_challenge_sends_its_code_with_no_user_action(page: Page, app_url: str, problems):
    page.goto(f"{app_url}/signup")
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    page.fill("#username", "challenged1")
    page.fill("#email", "challenged1@example.com")
    page.fill("#password", "correct horse battery staple quietly")
    page.select_option("#country", "US")
    page.fill("#phone", "312 555 0180")
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible(
        timeout=20_000
    )  # the account saved, the work done, the code sent
    (message,) = _outbox(app_url, "+13125550180")
    page.fill("#otp", message["code"])
    page.wait_for_url(re.compile(r".*/account/?$"))
