"""A copied Reflex tab token in a real browser: it gets neither a login nor shown-once codes.

Reflex keeps a tab's client token in the tab's sessionStorage (key "token") and
sends it in the state socket's URL, so proxy logs hold it. Here the token of a
closed tab goes to another browser: a fresh Playwright context with the token
put in its sessionStorage, and a raw state socket (as a script would speak it)
with that browser's cookies or none.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect
from test_account_flows import (
    ACCOUNT,
    LOGIN,
    PASSWORD,
    _code,
    _enable_2fa,
    _fresh_user,
    _log_out,
    _password_step,
    _sign_up,
)
from test_logs import emit, state_socket

from plivo_otp_app.state.verify import VerifyState


@pytest.fixture
def user_with_2fa(app: Page, app_url: str) -> tuple[str, str]:
    """A signed-up user with two-factor login on, logged out again: (username, phone)."""
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _enable_2fa(app, app_url, e164)
    _log_out(app)
    return username, e164


def _close_tab(page: Page) -> str:
    """The tab's client token; then the tab goes away (its socket closes)."""
    token = page.evaluate("() => sessionStorage.getItem('token')")
    assert token
    page.goto("about:blank")
    time.sleep(1)  # the server unlinks the token from the closed socket
    return token


def _answers(ws) -> str:
    """Every state update one handler sends, up to the one where it is no longer busy."""
    packets = []
    while not re.search(r'"loading_rx_state_":\s*false', packets[-1] if packets else ""):
        packets.append(ws.receive())
    return "\n".join(packets)


def test_a_closed_login_tabs_token_and_the_right_code_get_no_ticket_in_another_browser(
    app: Page, app_url: str, user_with_2fa: tuple[str, str], browser: Browser
):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)  # tab A: password given, code on its way
    code = _code(app_url, e164)
    token = _close_tab(app)
    other = browser.new_context()
    try:
        page = other.new_page()
        page.goto(f"{app_url}/sandbox")  # another browser that has been to the site: its own cookies
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in other.cookies())
        assert "otp_browser=" in cookies
        verify_code = {
            "name": f"{VerifyState.get_full_name()}.verify_code",
            "payload": {"form_data": {"otp": code}},
            "router_data": {"pathname": "/login", "query": {}, "asPath": "/login"},
        }
        with state_socket(app_url, token, cookie=cookies) as ws:
            emit(ws, verify_code)
            answers = _answers(ws)
        assert "ticket=" not in answers and "Signed in." not in answers, answers
        assert "started in another browser" in answers  # the flow is over, not just this try
        page.add_init_script(f"sessionStorage.setItem('token', {json.dumps(token)})")
        page.goto(f"{app_url}/login")  # the copied token in a page: the password form, no code step
        page.wait_for_function("() => !document.querySelector('#login-submit')?.disabled")
        expect(page.locator("#otp")).to_have_count(0)
        assert page.evaluate("() => sessionStorage.getItem('token')") == token
    finally:
        other.close()
    assert "otp_session" not in {c["name"] for c in app.context.cookies()}


def test_a_closed_account_tabs_token_gets_none_of_the_codes_it_showed(
    app: Page, app_url: str, user_with_2fa: tuple[str, str], browser: Browser
):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)
    app.fill("#otp", _code(app_url, e164))
    app.wait_for_url(ACCOUNT)
    app.click("#generate-backup-codes")
    app.fill("#password", PASSWORD)
    app.click("#confirm-backup-codes")
    expect(app.locator("#current-factor #otp")).to_be_visible()  # new codes ask for the phone too
    app.fill("#otp", _code(app_url, e164))
    expect(app.locator("#backup-codes li")).to_have_count(10)
    codes = [c.strip() for c in app.locator("#backup-codes li").all_inner_texts()]
    token = _close_tab(app)  # closed without "I have saved them"
    other = browser.new_context()
    try:
        page = other.new_page()
        frames: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
        page.add_init_script(f"sessionStorage.setItem('token', {json.dumps(token)})")
        page.goto(f"{app_url}/account")
        page.wait_for_url(LOGIN)  # no session here
        assert page.evaluate("() => sessionStorage.getItem('token')") == token
        assert frames and not [c for c in codes if any(c in frame for frame in frames)]
    finally:
        other.close()
