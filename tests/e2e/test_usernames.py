"""Usernames in any script in a real browser: an Arabic name signs up and logs in, a look-alike
of a name is taken, and a name the PRECIS rules refuse is told why on the form."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery staple quietly"
ACCOUNT = re.compile(r".*/account/?$")
LOGIN = re.compile(r".*/login/?(\?signed_out=1)?$")


def _code(app_url: str, e164: str) -> str:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return next(m["code"] for m in response.json()["messages"] if m["code"])


def _fill_sign_up(page: Page, app_url: str, username: str, last4: str) -> None:
    page.goto(f"{app_url}/signup")
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    main = page.locator("main")
    main.locator("#username").fill(username)
    main.locator("#password").fill(PASSWORD)
    main.locator("#phone").fill(f"(415) 555-{last4}")
    main.locator("#signup-submit").click()


def _enter_code(page: Page, app_url: str, last4: str) -> None:
    expect(page.locator("main #otp")).to_be_visible()
    page.locator("main #otp").fill(_code(app_url, f"+1415555{last4}"))  # the whole code submits itself


def _log_out(page: Page) -> None:
    page.locator("#logout").first.click()
    page.wait_for_url(LOGIN)


def _log_in(page: Page, app_url: str, username: str) -> None:
    page.goto(f"{app_url}/login")
    page.wait_for_function("() => !document.querySelector('#login-submit')?.disabled")
    main = page.locator("main")
    main.locator("#username").fill(username)
    main.locator("#password").fill(PASSWORD)
    main.locator("#login-submit").click()
    page.wait_for_url(ACCOUNT)


def test_an_arabic_username_signs_up_and_logs_in(app: Page, app_url: str, tmp_path):
    name = "محمد_علي"
    _fill_sign_up(app, app_url, name, "4601")
    _enter_code(app, app_url, "4601")
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-username")).to_have_text(name)
    app.screenshot(path=str(tmp_path / "arabic-account.png"), full_page=True)
    _log_out(app)
    _log_in(app, app_url, name)
    expect(app.locator("#account-username")).to_have_text(name)


def test_a_fullwidth_look_alike_is_taken_and_logs_in_to_the_same_account(app: Page, app_url: str):
    _fill_sign_up(app, app_url, "Zoë.Price", "4602")
    _enter_code(app, app_url, "4602")
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-username")).to_have_text("Zoë.Price")
    _log_out(app)
    look_alike = "\uff3a\uff2f\u00cb\uff0e\uff30\uff32\uff29\uff23\uff25"  # "ZOË.PRICE" in fullwidth forms
    _fill_sign_up(app, app_url, look_alike, "4603")
    _enter_code(app, app_url, "4603")  # looks the same as a free name until verified
    expect(app.locator("main #error")).to_have_text(
        "This username or email is already taken. Choose another, or log in if the account is yours."
    )
    _log_in(app, app_url, look_alike)
    expect(app.locator("#account-username")).to_have_text("Zoë.Price")


def test_a_refused_name_is_told_why_on_the_form(app: Page, app_url: str):
    _fill_sign_up(app, app_url, "zoë price", "4604")
    expect(app.locator("main #error")).to_have_text("A username cannot contain spaces.")
    expect(app.locator("main #otp")).to_have_count(0)
