"""The voice fallback of an undelivered SMS, in a real browser: the sandbox's magic number
+1 202 555 0105 takes the text but never delivers it, and says so in a signed callback to
the app; the code step notices (its delivery watch), offers a call, and the call brings the
same code."""

from __future__ import annotations

from pathlib import Path

import httpx
from axe import MOBILE, assert_no_axe_violations
from playwright.sync_api import Page, expect

UNDELIVERED = "+12025550105"


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


def test_an_undelivered_text_offers_a_call_of_the_same_code_once(app: Page, app_url: str, tmp_path: Path):
    app.select_option("#country", "US")
    app.fill("#phone", "202 555 0105")
    app.click("#send-otp")
    expect(app.locator("#message")).to_contain_text("texting a 6-digit code")
    assert _outbox(app_url, UNDELIVERED) == []  # the text never reached the phone
    offer = app.locator("#call-instead")
    expect(offer).to_be_visible(timeout=15_000)
    expect(app.locator("#message")).to_have_text(
        "The text message could not be delivered. We can call you with the code instead."
    )
    expect(app.locator("#call-me")).to_have_count(0)  # one "Call me instead", the offered one
    app.screenshot(path=tmp_path / "fallback-offer.png", full_page=True)
    assert_no_axe_violations(app)
    app.set_viewport_size(MOBILE)
    assert_no_axe_violations(app)
    app.screenshot(path=tmp_path / "fallback-offer-phone.png", full_page=True)
    offer.focus()  # reachable by keyboard, and Enter takes the offer
    app.keyboard.press("Enter")
    expect(app.locator("#message")).to_contain_text("calling a 6-digit code to +1 202-555-0105")
    expect(offer).to_have_count(0)
    expect(app.locator("#call-me")).to_be_visible()  # the ordinary one, under its cooldown
    [call] = _outbox(app_url, UNDELIVERED)
    assert call["channel"] == "voice"
    app.fill("#otp", call["code"])
    expect(app.locator("#verified")).to_contain_text("Phone number verified")


def test_a_delivered_text_offers_no_call(app: Page, app_url: str):
    app.select_option("#country", "US")
    app.fill("#phone", "415 555 2690")
    app.click("#send-otp")
    expect(app.locator("#otp")).to_be_visible()
    # The sandbox reports it sent, then delivered, within a second; the watch asks every 2 s.
    app.wait_for_timeout(5_000)
    expect(app.locator("#call-instead")).to_have_count(0)
    expect(app.locator("#message")).to_contain_text("texting a 6-digit code")
