"""The site header's links for signed-out and signed-in visitors, and the not-found page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from test_account_flows import ACCOUNT, LOGIN, _fresh_user, _sign_up

HOME = re.compile(r"^http://127\.0\.0\.1:\d+/$")
_NOT_FOUND_CONSOLE = "console: Failed to load resource: the server responded with a status of 404 (Not Found)"


def _nav_ids(page: Page) -> list[str]:
    return page.locator("#site-nav a, #site-nav button").evaluate_all("els => els.map(e => e.id)")


def test_signed_out_header_offers_verify_log_in_and_sign_up(app: Page, app_url: str):
    expect(app.locator("#site-nav #nav-login")).to_be_visible()
    assert _nav_ids(app) == ["nav-verify", "nav-login", "nav-signup"]
    expect(app.locator("#nav-verify")).to_have_attribute("aria-current", "page")
    expect(app.locator("#nav-login")).not_to_have_attribute("aria-current", "page")
    app.click("#nav-login")
    app.wait_for_url(LOGIN)
    expect(app.locator("#nav-login")).to_have_attribute("aria-current", "page")
    app.set_viewport_size({"width": 320, "height": 640})
    header = app.locator(".site-header")
    assert header.evaluate("h => h.scrollWidth <= h.clientWidth && h.clientWidth <= 320")


def test_signed_in_header_offers_account_and_log_out(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    expect(app.locator("#nav-account")).to_have_attribute("aria-current", "page")
    app.goto(app_url)
    expect(app.locator("#site-nav #nav-logout")).to_be_visible()
    assert _nav_ids(app) == ["nav-account", "nav-logout"]
    app.click("#nav-account")
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-username")).to_have_text(username)
    # The account page has its own log-out button; the header leaves its one out there.
    assert _nav_ids(app) == ["nav-account"]
    app.goto(app_url)
    app.add_init_script(_WATCH_LOGOUT_BUTTON)  # on every document from now on: the landing's too
    app.click("#nav-logout")
    app.wait_for_url(LOGIN)
    assert "otp_session" not in {c["name"] for c in app.context.cookies()}
    expect(app.locator("#site-nav #nav-login")).to_be_visible()
    app.wait_for_function("() => document.querySelector('#site-nav #nav-signup') !== null")
    assert _nav_ids(app) == ["nav-verify", "nav-login", "nav-signup"]
    # At no moment of the landing did its header offer "Log out" (not even before its session check).
    assert app.evaluate("() => window.sawLogout") is False


#: Notes whether `#nav-logout` is ever in the document, from its first node on.
_WATCH_LOGOUT_BUTTON = """
window.sawLogout = false;
new MutationObserver(() => { window.sawLogout ||= document.getElementById('nav-logout') !== null; })
  .observe(document, {childList: true, subtree: true});
"""


def test_unknown_path_shows_the_not_found_page_with_a_way_home(app: Page, app_url: str, problems: list[str]):
    missing = f"{app_url}/no-such-page"
    response = app.goto(missing)
    assert response is not None and response.status == 404
    expect(app.locator("h1")).to_have_text("Page not found")
    expect(app.locator("#site-nav #nav-verify")).to_be_visible()
    # The one failure this test expects, the missing page itself (the response, and the console's line).
    for expected in (f"http 404: {missing}", _NOT_FOUND_CONSOLE):
        problems.remove(expected)
    app.click("#home-link")
    app.wait_for_url(HOME)
    expect(app.locator("#phone")).to_be_visible()
