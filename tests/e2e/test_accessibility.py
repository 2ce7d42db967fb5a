"""WCAG 2.2 AA in a real browser: axe over every page and state, desktop and phone; errors tied
to their fields; focus moved where the next step is; countdowns announced once; account panels
that take focus and close with Escape; "Sign out everywhere" asks first.

Numbers: +1 415 555 44XX.
"""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
from axe import DESKTOP, MOBILE, axe_violations, report
from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery staple quietly"
ACCOUNT = re.compile(r".*/account/?$")
LOGIN = re.compile(r".*/login/?(\?signed_out=1)?$")
_numbers = itertools.count(4400)


def _number() -> tuple[str, str]:
    """A number as typed and its E.164, unique per use."""
    n = next(_numbers)
    return f"(415) 555-{n}", f"+1415555{n}"


def _code(app_url: str, e164: str) -> str:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return next(m["code"] for m in response.json()["messages"] if m["code"])


def _wrong(code: str, attempt: int = 0) -> str:
    """A wrong code, a different one for each `attempt` (a code refused once is not sent again)."""
    wrong = f"{attempt:06d}"
    return wrong if wrong != code else f"{attempt + 100:06d}"


def _ready(page: Page, button: str) -> None:
    page.wait_for_function(f"() => !document.querySelector('#{button}')?.disabled")


def _goto(page: Page, url: str, button: str | None = None) -> None:
    page.goto(url)
    if button:
        _ready(page, button)


def _sign_up(page: Page, app_url: str, username: str, typed: str, e164: str) -> None:
    _goto(page, f"{app_url}/signup", "signup-submit")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#phone", typed)
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(app_url, e164))  # the whole code submits itself
    page.wait_for_url(ACCOUNT)
    expect(page.locator("#account-username")).to_have_text(username)


class Sweep:
    """Runs axe at each state shown, keeping what it finds to report all at once."""

    def __init__(self, page: Page, size: str) -> None:
        self.page, self.size, self.found = page, size, {}

    def check(self, state: str, page: Page | None = None) -> None:
        shown = page or self.page
        shown.wait_for_timeout(150)  # let the last render settle (transitions, focus)
        violations = axe_violations(shown)
        if violations:
            self.found[f"{state} ({self.size})"] = report(violations)


def _enable_2fa(page: Page, app_url: str, e164: str) -> None:
    page.click("#enable-2fa")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(app_url, e164))
    expect(page.locator("#two-factor-status")).to_have_text("on")
    page.click("#code-done")


def _log_in(page: Page, app_url: str, username: str) -> None:
    _goto(page, f"{app_url}/login", "login-submit")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def _focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement?.id ?? ''")


@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_axe_finds_no_wcag_22_aa_violation_on_any_page_or_state(
    page: Page, app_url: str, problems: list[str], size: str
):
    """Every page and state, as a visitor goes through them, at desktop and phone sizes."""
    page.set_viewport_size(DESKTOP if size == "desktop" else MOBILE)
    sweep = Sweep(page, size)

    # Verify: the phone step, an error, the code step, a wrong code, verified.
    _goto(page, app_url, "send-otp")
    sweep.check("verify: phone step")
    page.fill("#phone", "123")
    page.click("#send-otp")
    expect(page.locator("#error")).to_be_visible()
    sweep.check("verify: invalid number")
    typed, e164 = _number()
    page.fill("#phone", typed)
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()
    sweep.check("verify: code step")
    code = _code(app_url, e164)
    page.fill("#otp", _wrong(code))
    expect(page.locator("#error")).to_be_visible()
    sweep.check("verify: wrong code")
    page.fill("#otp", code)
    expect(page.locator("#verified")).to_be_visible()
    sweep.check("verify: verified")

    # Sign-up: the form, an error, the code step; then the account page.
    _goto(page, f"{app_url}/signup", "signup-submit")
    sweep.check("signup: form")
    username = f"a11y{size}{next(_numbers)}"
    typed, e164 = _number()
    page.fill("#username", username)
    page.fill("#password", "short")
    page.fill("#phone", typed)
    page.click("#signup-submit")
    expect(page.locator("#error")).to_be_visible()
    sweep.check("signup: error")
    page.fill("#password", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    sweep.check("signup: code step")
    page.fill("#otp", _code(app_url, e164))  # the whole code submits itself
    page.wait_for_url(ACCOUNT)
    expect(page.locator("#account-username")).to_have_text(username)
    sweep.check("account")

    # Account: each panel, a code step and its result.
    for opener, panel in (
        ("#change-phone", "#panel-change-phone"),
        ("#generate-backup-codes", "#panel-backup-codes"),
        ("#sign-out-everywhere", "#panel-sign-out-all"),
    ):
        page.click(opener)
        expect(page.locator(panel)).to_be_visible()
        sweep.check(f"account: {panel}")
        page.keyboard.press("Escape")
        expect(page.locator(panel)).to_have_count(0)
    page.click("#enable-2fa")
    expect(page.locator("#otp")).to_be_visible()
    sweep.check("account: code step")
    page.fill("#otp", _code(app_url, e164))
    expect(page.locator("#two-factor-status")).to_have_text("on")
    sweep.check("account: code step done")
    page.click("#code-done")
    page.click("#generate-backup-codes")
    page.fill("#password", PASSWORD)
    page.click("#confirm-backup-codes")
    expect(page.locator("#current-factor #otp")).to_be_visible()
    sweep.check("account: current factor")
    page.fill("#otp", _code(app_url, e164))
    expect(page.locator("#backup-codes li")).to_have_count(10)
    sweep.check("account: new backup codes")
    backup_code = page.locator("#backup-codes li").first.inner_text().strip()
    page.click("#code-done")
    page.click("#hide-backup-codes")
    page.click("#disable-2fa")
    expect(page.locator("#panel-disable-2fa")).to_be_visible()
    sweep.check("account: #panel-disable-2fa")
    page.keyboard.press("Escape")
    page.click("#logout")
    page.wait_for_url(LOGIN)

    # Login: the form, an error, the code step, the backup-code step.
    _ready(page, "login-submit")
    sweep.check("login: form")
    page.fill("#username", username)
    page.fill("#password", "not the password at all")
    page.click("#login-submit")
    expect(page.locator("#error")).to_be_visible()
    sweep.check("login: error")
    _log_in(page, app_url, username)
    expect(page.locator("#otp")).to_be_visible()
    sweep.check("login: code step")
    page.click("#use-backup-code")
    expect(page.locator("#backup-code")).to_be_visible()
    sweep.check("login: backup code")
    page.fill("#backup-code", "AAAA-BBBB-CCCC-DDDD")
    page.click("#verify-otp")
    expect(page.locator("#error")).to_be_visible()
    sweep.check("login: backup code error")

    # Reset: the name, the code step, a wrong code, the new password with a backup code (2FA is
    # on), an error, done.
    _goto(page, f"{app_url}/reset-password", "reset-start")
    sweep.check("reset: name step")
    page.fill("#username", username)
    page.click("#reset-start")
    expect(page.locator("#otp")).to_be_visible()
    sweep.check("reset: code step")
    code = _code(app_url, e164)
    page.fill("#otp", _wrong(code))
    expect(page.locator("#error")).to_be_visible()
    sweep.check("reset: wrong code")
    page.fill("#otp", code)
    expect(page.locator("#backup-code")).to_be_visible()
    sweep.check("reset: new password")
    page.fill("#new-password", "short")
    page.fill("#backup-code", backup_code)
    page.click("#reset-submit")
    expect(page.locator("#error")).to_be_visible()
    sweep.check("reset: error")
    page.fill("#new-password", PASSWORD + " again")
    page.click("#reset-submit")
    expect(page.locator("#reset-done")).to_be_visible()
    sweep.check("reset: done")

    page.goto(f"{app_url}/sandbox")
    expect(page.locator("#outbox")).to_contain_text(e164)
    sweep.check("sandbox")
    missing = page.context.new_page()  # its 404 status is the point: not one of `problems`
    missing.set_viewport_size(page.viewport_size or DESKTOP)
    missing.goto(f"{app_url}/no-such-page")
    expect(missing.locator("#not-found")).to_be_visible()
    sweep.check("not found", missing)

    assert sweep.found == {}, "\n\n".join(f"{state}:\n{text}" for state, text in sweep.found.items())


def test_errors_are_tied_to_their_fields(app: Page, app_url: str):
    """A field in error says so (`aria-invalid`) and is described by the error line (3.3.1)."""
    phone = app.locator("#phone")
    expect(phone).to_have_attribute("aria-invalid", "false")
    expect(phone).not_to_have_attribute("aria-describedby", re.compile(".*"))
    phone.fill("123")
    app.click("#send-otp")
    expect(app.locator("#error")).to_be_visible()
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", "error")
    expect(phone).to_have_accessible_description(app.locator("#error").inner_text())

    typed, e164 = _number()
    phone.fill(typed)
    app.click("#send-otp")
    otp = app.locator("#otp")
    expect(otp).to_have_attribute("aria-invalid", "false")
    otp.fill(_wrong(_code(app_url, e164)))  # it submits itself
    expect(app.locator("#error")).to_have_text("That code is not correct. 4 attempts left.")
    expect(otp).to_have_attribute("aria-invalid", "true")
    expect(otp).to_have_accessible_description("That code is not correct. 4 attempts left.")

    _goto(app, f"{app_url}/login", "login-submit")
    app.fill("#username", "nobody-here")
    app.fill("#password", "not the password at all")
    app.click("#login-submit")
    expect(app.locator("#error")).to_have_text("Incorrect username or password.")
    expect(app.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(app.locator("#password")).to_have_accessible_description("Incorrect username or password.")

    _goto(app, f"{app_url}/signup", "signup-submit")
    app.fill("#username", f"a11yerr{next(_numbers)}")
    app.fill("#password", "short")
    app.fill("#phone", _number()[0])
    app.click("#signup-submit")
    expect(app.locator("#error")).to_be_visible()
    expect(app.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(app.locator("#password")).to_have_attribute("aria-describedby", "error")
    expect(app.locator("#username")).to_have_attribute("aria-invalid", "false")


def test_focus_goes_to_the_result_after_success_and_to_the_code_after_a_resend(app: Page, app_url: str):
    typed, e164 = _number()
    app.fill("#phone", typed)
    app.click("#send-otp")
    expect(app.locator("#otp")).to_be_focused()
    _ready(app, "resend-otp")  # the cooldown (3 s in this run) is over
    app.click("#resend-otp")
    expect(app.locator("#message")).to_contain_text("texting")
    expect(app.locator("#otp")).to_be_focused()
    app.fill("#otp", _code(app_url, e164))  # the whole code submits itself
    expect(app.locator("#verified")).to_be_focused()

    # An account change: the code step's result takes the focus.
    username = f"a11yfocus{next(_numbers)}"
    typed, e164 = _number()
    _sign_up(app, app_url, username, typed, e164)
    app.click("#enable-2fa")
    app.fill("#otp", _code(app_url, e164))
    expect(app.locator("#message")).to_have_text("Two-factor login is on.")
    expect(app.locator("#message")).to_be_focused()


_WATCH = """(selector) => {
  window.__seen = [];
  const node = document.querySelector(selector);
  new MutationObserver(() => window.__seen.push(node.textContent)).observe(
    node, { childList: true, characterData: true, subtree: true });
}"""


def test_the_end_of_the_resend_countdown_is_announced_once_politely(app: Page, app_url: str):
    typed, _ = _number()
    app.fill("#phone", typed)
    app.click("#send-otp")
    status = app.locator("#countdown-status")
    expect(status).to_have_attribute("role", "status")  # polite, in the page before it speaks
    expect(status).to_have_text("")
    app.evaluate(_WATCH, "#countdown-status")
    expect(app.locator("#resend-otp")).to_contain_text("Resend code in")  # the button counts, silently
    _ready(app, "resend-otp")
    expect(status).to_have_text("You can resend the code now.")
    app.wait_for_timeout(1500)  # no more ticks change it
    assert app.evaluate("() => window.__seen") == ["You can resend the code now."]


def test_a_counted_wait_is_said_once_not_every_second(app: Page, app_url: str):
    """Too many wrong codes: the error counts the wait down each second, outside any live region."""
    typed, e164 = _number()
    app.fill("#phone", typed)
    app.click("#send-otp")
    code = _code(app_url, e164)
    for left in (4, 3, 2, 1):
        app.fill("#otp", _wrong(code, left))  # each submits itself
        expect(app.locator("#error")).to_contain_text(f"{left} attempt")
        expect(app.locator("#error")).to_have_attribute("role", "alert")  # a one-off error is an alert
    app.fill("#otp", _wrong(code, 0))
    error = app.locator("#error")
    expect(error).to_contain_text("Too many wrong codes")
    expect(error).not_to_have_attribute("role", re.compile(".*"))
    status = app.locator("#countdown-status")
    expect(status).to_have_text(re.compile("Too many wrong codes"))
    said = status.inner_text()
    first = error.inner_text()
    expect(error).not_to_have_text(first, timeout=3000)  # it counts down on screen
    expect(status).to_have_text(said)  # and is said once


def test_account_panels_take_focus_and_close_with_escape(app: Page, app_url: str):
    username = f"a11ypanel{next(_numbers)}"
    typed, e164 = _number()
    _sign_up(app, app_url, username, typed, e164)
    for opener, panel, first in (
        ("change-phone", "panel-change-phone", "phone"),
        ("generate-backup-codes", "panel-backup-codes", "password"),
    ):
        app.click(f"#{opener}")
        expect(app.locator(f"#{panel} #{first}")).to_be_focused()
        app.keyboard.type("41")
        app.keyboard.press("Escape")
        expect(app.locator(f"#{panel}")).to_have_count(0)
        expect(app.locator(f"#{opener}")).to_be_focused()
    # Cancel does the same as Escape.
    app.click("#change-phone")
    expect(app.locator("#panel-change-phone #phone")).to_be_focused()
    app.click("#send-change-code-cancel")
    expect(app.locator("#panel-change-phone")).to_have_count(0)
    expect(app.locator("#change-phone")).to_be_focused()


def test_sign_out_everywhere_asks_first(app: Page, app_url: str):
    username = f"a11ysignout{next(_numbers)}"
    typed, e164 = _number()
    _sign_up(app, app_url, username, typed, e164)
    app.click("#sign-out-everywhere")
    question = app.locator("#sign-out-all-question")
    expect(question).to_be_focused()
    expect(app.locator("#panel-sign-out-all")).to_have_accessible_name(question.inner_text())
    app.click("#cancel-sign-out-all")
    expect(app.locator("#panel-sign-out-all")).to_have_count(0)
    expect(app.locator("#sign-out-everywhere")).to_be_focused()
    app.reload()
    expect(app.locator("#account-username")).to_have_text(username)  # still signed in

    app.click("#sign-out-everywhere")
    expect(question).to_be_focused()
    app.keyboard.press("Escape")
    expect(app.locator("#panel-sign-out-all")).to_have_count(0)
    expect(app.locator("#sign-out-everywhere")).to_be_focused()

    app.click("#sign-out-everywhere")
    app.click("#confirm-sign-out-all")
    app.wait_for_url(LOGIN)
    app.goto(f"{app_url}/account")
    app.wait_for_url(LOGIN)
