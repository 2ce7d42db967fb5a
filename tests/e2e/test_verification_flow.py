"""The verification page in a real browser, against the built app and its sandbox."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

#: The burnt code's 5 minutes, counting down (OTP_EXPIRY_SECONDS is the default 300 in this run).
TOO_MANY = re.compile(r"Too many wrong codes\. You can request a new code in [45] min( [0-9]+ s)?\.")


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


def _send(page: Page, number: str, channel: str = "sms", country: str = "US") -> None:
    page.select_option("#country", country)
    page.fill("#phone", number)
    page.select_option("#channel", channel)
    page.click("#send-otp")


def _wrong(code: str, attempt: int = 0) -> str:
    """A wrong code, a different one for each `attempt` (a code refused once is not sent again)."""
    wrong = f"{attempt:06d}"
    return wrong if wrong != code else f"{attempt + 100:06d}"


def test_happy_path_by_sms(app: Page, app_url: str):
    _send(app, "(415) 555-2601")
    expect(app.locator("#message")).to_contain_text("texting a 6-digit code to +1 415-555-2601")
    otp = app.locator("#otp")
    expect(otp).to_have_attribute("autocomplete", "one-time-code")
    expect(otp).to_have_attribute("inputmode", "numeric")
    expect(otp).to_have_attribute("pattern", r"[0-9]([ \-]?[0-9]){5}")  # six digits, separators allowed
    (message,) = _outbox(app_url, "+14155552601")
    assert message["channel"] == "sms" and re.fullmatch(r"[0-9]{6}", message["code"])
    otp.fill(message["code"])
    expect(app.locator("#verified")).to_contain_text("Phone number verified")
    expect(app.locator("#verified")).to_contain_text("+1******2601")


def test_happy_path_by_voice(app: Page, app_url: str):
    _send(app, "+44 20 7946 0958", channel="voice")
    expect(app.locator("#message")).to_contain_text("calling")
    (message,) = _outbox(app_url, "+442079460958")
    assert message["channel"] == "voice"
    app.fill("#otp", message["code"])
    expect(app.locator("#verified")).to_be_visible()


def test_wrong_code_then_right_code(app: Page, app_url: str):
    _send(app, "415-555-2602")
    expect(app.locator("#otp")).to_be_visible()
    code = _outbox(app_url, "+14155552602")[0]["code"]
    app.fill("#otp", _wrong(code))
    expect(app.locator("#error")).to_have_text("That code is not correct. 4 attempts left.")
    app.fill("#otp", code)
    expect(app.locator("#verified")).to_be_visible()
    expect(app.locator("#error")).to_have_count(0)


def test_expired_code_offers_a_new_code_at_once(app: Page, app_url: str):
    _send(app, "4155552603")
    expect(app.locator("#otp")).to_be_visible()
    code = _outbox(app_url, "+14155552603")[0]["code"]
    httpx.post(f"{app_url}/sandbox/expire", json={"recipient": "+14155552603"}).raise_for_status()
    app.fill("#otp", code)
    expect(app.locator("#error")).to_have_text("This code has expired. Send a new code to continue.")
    expect(app.locator("#verified")).to_have_count(0)
    expect(app.locator("#verify-otp")).to_be_disabled()
    new_code = app.locator("#resend-otp")
    expect(new_code).to_have_text("Send a new code")
    expect(new_code).to_be_enabled()  # no cooldown of the dead code to sit out
    new_code.click()
    expect(app.locator("#message")).to_contain_text("texting a 6-digit code to +1 415-555-2603")
    expect(app.locator("#error")).to_have_count(0)
    messages = _outbox(app_url, "+14155552603")
    assert len(messages) == 2 and messages[0]["code"] != code  # a fresh code, from a fresh session
    app.fill("#otp", messages[0]["code"])
    expect(app.locator("#verified")).to_be_visible()


def test_resend_countdown_then_resend_and_call(app: Page, app_url: str):
    _send(app, "(415) 555-2604")
    resend = app.locator("#resend-otp")
    expect(resend).to_have_text(re.compile(r"Resend code in [1-3] s"))
    expect(resend).to_be_disabled()
    expect(resend).to_have_text("Resend code", timeout=10_000)
    resend.click()
    expect(app.locator("#message")).to_contain_text("texting")
    # The cooldown grows: 3 s, then 6 s.
    expect(resend).to_have_text(re.compile(r"Resend code in [4-6] s"))
    expect(app.locator("#call-me")).to_be_enabled(timeout=12_000)
    app.click("#call-me")
    expect(app.locator("#message")).to_contain_text("calling")
    messages = _outbox(app_url, "+14155552604")
    assert [m["channel"] for m in messages] == ["voice", "sms", "sms"]
    assert len({m["code"] for m in messages}) == 1
    app.fill("#otp", messages[0]["code"])
    expect(app.locator("#verified")).to_be_visible()


def test_too_many_wrong_codes_turn_verify_off_and_count_down_to_a_new_code(app: Page, app_url: str):
    _send(app, "(415) 555-2605")
    expect(app.locator("#otp")).to_be_visible()
    code = _outbox(app_url, "+14155552605")[0]["code"]
    for left in (4, 3, 2, 1):
        app.fill("#otp", _wrong(code, left))
        expect(app.locator("#error")).to_contain_text(f"{left} attempt")
    app.fill("#otp", _wrong(code, 0))
    error = app.locator("#error")
    expect(error).to_have_text(TOO_MANY)
    expect(app.locator("#verify-otp")).to_be_disabled()  # a right code cannot be tried any more
    expect(app.locator("#otp")).to_be_disabled()
    resend = app.locator("#resend-otp")
    expect(resend).to_have_text(re.compile(r"Send a new code in [45] min( [0-9]+ s)?"))
    expect(resend).to_be_disabled()
    shown = error.inner_text()
    expect(error).not_to_have_text(shown, timeout=3_000)  # a live countdown, not a fixed sentence
    expect(error).to_have_text(TOO_MANY)
    # The same number again waits for the same end: no paid send of a code already guessed at.
    app.click("#change-number")
    _send(app, "(415) 555-2605")
    expect(app.locator("#error")).to_have_text(TOO_MANY)
    assert len(_outbox(app_url, "+14155552605")) == 1


def test_a_code_typed_or_pasted_as_the_sms_shows_it(app: Page, app_url: str):
    app.context.grant_permissions(["clipboard-read", "clipboard-write"])
    for number, separator, how in (("2609", " ", "type"), ("2610", "-", "paste")):
        app.goto(app_url)
        app.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
        _send(app, f"(415) 555-{number}")
        otp = app.locator("#otp")
        expect(otp).to_be_visible()
        code = _outbox(app_url, f"+1415555{number}")[0]["code"]
        spaced = f"{code[:3]}{separator}{code[3:]}"
        if how == "type":
            otp.press_sequentially(spaced)
        else:
            app.evaluate("text => navigator.clipboard.writeText(text)", spaced)
            otp.focus()
            app.keyboard.press("Control+V")
        # It submits itself: the whole code arrived, nothing cut off by the field's length limit.
        expect(app.locator("#verified")).to_be_visible()


def test_a_send_limit_says_too_many_codes_sent_and_counts_down(app: Page, app_url: str):
    # RATE_LIMIT_SEND_PER_NUMBER is 50/hour in this run: use them up through the JSON API.
    with httpx.Client(base_url=app_url, timeout=10) as client:
        sends = [client.post("/api/otp/send", json={"recipient": "+14155552612"}) for _ in range(51)]
    answers = {response.status_code for response in sends}
    assert 429 in answers
    _send(app, "(415) 555-2612")
    error = app.locator("#error")
    expect(error).to_have_text(
        re.compile(r"Too many codes sent\. You can request a new code in (59 min [0-9]+ s|1 h)\.")
    )
    shown = error.inner_text()
    expect(error).not_to_have_text(shown, timeout=3_000)  # counting down live
    expect(app.locator("#otp")).to_have_count(0)
    expect(app.locator("#send-otp")).to_be_enabled()  # another number can still get a code


def test_invalid_and_landline_numbers_are_explained(app: Page):
    _send(app, "12345")
    expect(app.locator("#error")).to_contain_text("phone number")
    expect(app.locator("#otp")).to_have_count(0)
    _send(app, "+44 20 7946 0958")
    expect(app.locator("#error")).to_contain_text("landline")
    expect(app.locator("#otp")).to_have_count(0)


def test_provider_down_is_explained(app: Page):
    _send(app, "+1 202 555 0103")
    expect(app.locator("#error")).to_have_text(
        "We could not reach the SMS service. Please try again in a minute."
    )
    expect(app.locator("#otp")).to_have_count(0)
    expect(app.locator("#send-otp")).to_be_enabled()


def test_provider_timeout_is_explained(app: Page):
    _send(app, "+1 202 555 0104")
    expect(app.locator("#send-otp")).to_have_text("Sending…")
    expect(app.locator("#error")).to_have_text(
        "We could not reach the SMS service. Please try again in a minute.", timeout=10_000
    )


def test_use_a_different_number(app: Page, app_url: str):
    _send(app, "(415) 555-2606")
    expect(app.locator("#otp")).to_be_visible()
    app.click("#change-number")
    expect(app.locator("#phone")).to_have_value("(415) 555-2606")
    _send(app, "(415) 555-2607")
    expect(app.locator("#message")).to_contain_text("+1 415-555-2607")
    assert len(_outbox(app_url, "+14155552607")) == 1


def test_sandbox_banner_and_outbox_page(app: Page, app_url: str):
    expect(app.locator("#sandbox-banner")).to_contain_text("no real SMS is sent")
    _send(app, "(415) 555-2608")
    expect(app.locator("#otp")).to_be_visible()
    app.goto(f"{app_url}/sandbox")
    expect(app.locator("#outbox")).to_contain_text("+14155552608")
