"""Password recovery in a real browser: `#forgot-password` on /login, then /reset-password (the
name, the code to the account's phone, the new password; with 2FA on, a backup code too). The old
password and every old session are dead afterwards; a name with no account looks the same."""

from __future__ import annotations

import itertools
import re

import httpx
from playwright.sync_api import Browser, Page, expect
from test_account_flows import (
    ACCOUNT,
    LOGIN,
    PASSWORD,
    _code,
    _enable_2fa,
    _generate_backup_codes,
    _outbox,
    _ready,
    _sign_up,
)

NEW_PASSWORD = "a brand new tangerine bicycle hums"
_numbers = itertools.count(4100)


def _fresh_user() -> tuple[str, str, str]:
    """A username, the number as typed and its E.164, from this file's own range."""
    n = next(_numbers)
    return f"reset{n}", f"(415) 555-{n}", f"+1415555{n}"


def _to_code_step(page: Page, app_url: str, name: str) -> None:
    """From the login page's link to the code step of a reset for `name`."""
    page.goto(f"{app_url}/login")
    link = page.locator("main #forgot-password")
    expect(link).to_have_text("Forgot your password?")
    link.click()
    page.wait_for_url(re.compile(r".*/reset-password/?$"))
    _ready(page, "reset-start")
    page.fill("#username", name)
    page.click("#reset-start")
    expect(page.locator("main #otp")).to_be_visible()


def _log_in(page: Page, app_url: str, name: str, password: str) -> None:
    page.goto(f"{app_url}/login")
    _ready(page, "login-submit")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-submit")


def test_reset_without_2fa_ends_the_old_password_and_sessions(app: Page, app_url: str, browser: Browser):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)  # this browser stays signed in
    other = browser.new_context()
    try:
        page = other.new_page()
        _to_code_step(page, app_url, username)
        expect(page.locator("main #message")).to_have_text(
            "If the account has a verified phone, we are texting it a 6-digit code."
        )
        page.fill("#otp", _code(app_url, e164))  # the whole code submits itself
        expect(page.locator("main #new-password")).to_be_focused()
        expect(page.locator("main #backup-code")).to_have_count(0)
        page.fill("#new-password", NEW_PASSWORD)
        page.click("#reset-submit")
        expect(page.locator("main #reset-done")).to_contain_text("Your password was changed")
        assert "password was changed" in _outbox(app_url, e164)[0]["text"]
    finally:
        other.close()

    app.goto(f"{app_url}/account")
    app.wait_for_url(LOGIN)  # the session from before the reset is over
    _log_in(app, app_url, username, PASSWORD)
    expect(app.locator("main #error")).to_have_text("Incorrect username or password.")
    _log_in(app, app_url, username, NEW_PASSWORD)
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-username")).to_have_text(username)


def test_reset_with_2fa_needs_a_backup_code_too(app: Page, app_url: str, browser: Browser):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _enable_2fa(app, app_url, e164)
    codes = _generate_backup_codes(app, app_url, e164)
    other = browser.new_context()
    try:
        page = other.new_page()
        _to_code_step(page, app_url, f"{username}@example.com")
        page.fill("#otp", _code(app_url, e164))
        expect(page.locator("main #backup-code")).to_be_visible()
        page.fill("#new-password", NEW_PASSWORD)
        page.fill("#backup-code", "AAAA-BBBB-CCCC-DDDD")
        page.click("#reset-submit")
        expect(page.locator("main #error")).to_have_text("That backup code is not valid or was already used.")
        page.fill("#backup-code", codes[0])
        page.click("#reset-submit")
        expect(page.locator("main #reset-done")).to_contain_text("Your password was changed")
    finally:
        other.close()

    app.goto(f"{app_url}/account")
    app.wait_for_url(LOGIN)
    _log_in(app, app_url, username, NEW_PASSWORD)
    expect(app.locator("main #otp")).to_be_visible()  # two-factor login is still on
    app.fill("#otp", _code(app_url, e164))
    app.wait_for_url(ACCOUNT)


def _what_a_visitor_sees(page: Page, app_url: str, name: str) -> list[str]:
    """The texts of a reset for `name` up to a wrong code and a resend."""
    _to_code_step(page, app_url, name)
    seen = [page.locator("main").inner_text()]
    page.fill("#otp", "000000")  # it submits itself
    expect(page.locator("main #error")).to_be_visible()
    seen.append(page.locator("main #error").inner_text())
    return seen


def test_an_unknown_account_looks_the_same(app: Page, app_url: str, browser: Browser):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    texts = len(_all_texts(app_url))
    seen = []
    for name in (username, "nobody-4199"):
        context = browser.new_context()
        try:
            seen.append(_what_a_visitor_sees(context.new_page(), app_url, name))
        finally:
            context.close()
    assert seen[0] == seen[1]
    assert "attempts left" in seen[0][1]
    assert len(_all_texts(app_url)) == texts + 1  # the known account's code only


def _all_texts(app_url: str) -> list[dict[str, str]]:
    """Every message of the sandbox outbox."""
    response = httpx.get(f"{app_url}/sandbox/messages")
    response.raise_for_status()
    return response.json()["messages"]
