"""Accounts in a real browser: sign-up with phone verification, SMS two-factor login,
backup codes, remembered devices, 2FA on/off, phone change, lockout, sign-out."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, START_TIMEOUT
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up
from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct horse battery staple quietly"
ACCOUNT = re.compile(r".*/account/?$")
#: The login page, also as a sign-out lands on it ("You are signed out.").
LOGIN = re.compile(r".*/login/?(\?signed_out=1)?$")
_numbers = itertools.count(2700)


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


def _code(app_url: str, e164: str) -> str:
    return next(m["code"] for m in _outbox(app_url, e164) if m["code"])


def _ready(page: Page, button: str) -> None:
    page.wait_for_function(f"() => !document.querySelector('#{button}')?.disabled")


def _fresh_user() -> tuple[str, str, str]:
    """A username, the number as typed and its E.164, unique per test."""
    n = next(_numbers)
    return f"user{n}", f"(415) 555-{n}", f"+1415555{n}"


def _sign_up(page: Page, app_url: str, username: str, typed: str, e164: str) -> None:
    page.goto(f"{app_url}/signup")
    _ready(page, "signup-submit")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#phone", typed)
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(app_url, e164))
    page.wait_for_url(ACCOUNT)
    expect(page.locator("#account-username")).to_have_text(username)


def _enable_2fa(page: Page, app_url: str, e164: str) -> None:
    before = len(_outbox(app_url, e164))
    page.click("#enable-2fa")
    expect(page.locator("#otp")).to_be_visible()
    assert len(_outbox(app_url, e164)) == before + 1
    page.fill("#otp", _code(app_url, e164))
    expect(page.locator("#message")).to_have_text("Two-factor login is on.")
    expect(page.locator("#two-factor-status")).to_have_text("on")
    page.click("#code-done")


def _log_out(page: Page) -> None:
    page.click("#logout")
    page.wait_for_url(LOGIN)


def _password_step(page: Page, app_url: str, username: str, code_expected: bool = True) -> None:
    """Log in up to the code step (waiting until the code is sent), or all the way."""
    page.goto(f"{app_url}/login")
    _ready(page, "login-submit")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    if code_expected:
        expect(page.locator("#otp")).to_be_visible()
    else:
        page.wait_for_url(ACCOUNT)


def _change_phone_without_2fa(page: Page, app_url: str, new_typed: str, new_e164: str) -> None:
    """The password and the new number, then its code: the account now shows the new number."""
    page.click("#change-phone")
    page.fill("#phone", new_typed)
    page.fill("#password", PASSWORD)
    page.click("#send-change-code")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(app_url, new_e164))
    expect(page.locator("#message")).to_contain_text("Your phone number was changed.")
    expect(page.locator("#account-phone")).to_have_text(f"+1 ******{new_e164[-4:]}")


@pytest.fixture
def user_with_2fa(app: Page, app_url: str) -> tuple[str, str]:
    """A signed-up user with two-factor login on, logged out again."""
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _enable_2fa(app, app_url, e164)
    _log_out(app)
    return username, e164


def test_sign_up_verifies_the_phone_and_signs_in(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    expect(app.locator("#account-phone")).to_have_text(f"+1 ******{e164[-4:]}")
    expect(app.locator("#two-factor-status")).to_have_text("off")
    cookies = {c["name"]: c for c in app.context.cookies()}
    assert cookies["otp_session"]["httpOnly"] and cookies["otp_session"]["sameSite"] == "Lax"
    assert "otp_session" not in app.evaluate("document.cookie")


#: Cookies other code on the host may set, which the stdlib's parser choked on (and lost the session).
FOREIGN_COOKIES = {
    "theme": '{"dark":true}',
    "note": "a b",
    "path": "x",
    "expires": "Wed, 21 Oct 2015 07:28:00 GMT",
}


def test_foreign_cookies_on_the_host_do_not_lose_the_session(app: Page, app_url: str):
    app.context.add_cookies([{"name": k, "value": v, "url": app_url} for k, v in FOREIGN_COOKIES.items()])
    assert {c["name"] for c in app.context.cookies()} >= set(FOREIGN_COOKIES)
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)  # lands on /account, signed in
    app.reload()
    expect(app.locator("#account-username")).to_have_text(username)
    assert ACCOUNT.match(app.url)
    _log_out(app)
    _password_step(app, app_url, username, code_expected=False)
    expect(app.locator("#account-username")).to_have_text(username)


def test_the_browser_cookie_is_httponly_and_set_before_login(app: Page, app_url: str):
    cookies = {c["name"]: c for c in app.context.cookies()}
    own = cookies["otp_browser"]
    assert own["httpOnly"] and own["sameSite"] == "Lax" and own["path"] == "/"
    assert "otp_browser" not in app.evaluate("document.cookie")


def test_a_ticket_link_opened_in_another_browser_signs_nobody_in(browser: Browser, app_url: str):
    """Login CSRF: the attacker logs in, keeps the ticket link and sends it to the victim."""
    attacker_name, typed, e164 = _fresh_user()
    victim_name, victim_typed, victim_e164 = _fresh_user()
    attacker, victim = browser.new_context(), browser.new_context()
    try:
        a = attacker.new_page()
        _sign_up(a, app_url, attacker_name, typed, e164)
        _log_out(a)
        a.route("**/api/session/complete?*", lambda route: route.abort())  # kept, not redeemed
        a.goto(f"{app_url}/login")
        _ready(a, "login-submit")
        a.fill("#username", attacker_name)
        a.fill("#password", PASSWORD)
        with a.expect_request("**/api/session/complete?*") as moved:
            a.click("#login-submit")
        links = [moved.value.url]
        v = victim.new_page()
        _sign_up(v, app_url, victim_name, victim_typed, victim_e164)
        v.goto(links[0])
        v.wait_for_url(ACCOUNT)  # the link's fail landing, /login, sends a signed-in browser home
        expect(v.locator("#account-username")).to_have_text(victim_name)  # still the victim's own session
        fresh = browser.new_context()
        try:
            w = fresh.new_page()
            w.goto(app_url)  # a browser with its own browser cookie and no session
            w.goto(links[0])
            w.wait_for_url(LOGIN)
            w.goto(f"{app_url}/account")
            w.wait_for_url(LOGIN)  # not signed into the attacker's account
        finally:
            fresh.close()
        a.unroute("**/api/session/complete?*")
        a.goto(links[0])  # the browser that logged in still completes it
        a.wait_for_url(ACCOUNT)
        expect(a.locator("#account-username")).to_have_text(attacker_name)
    finally:
        attacker.close()
        victim.close()


def test_log_in_with_2fa_by_sms(app: Page, app_url: str, user_with_2fa: tuple[str, str]):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)
    expect(app.locator("#message")).to_contain_text(f"+1 ******{e164[-4:]}")
    assert "otp_session" not in {c["name"] for c in app.context.cookies()}  # nothing granted yet
    app.goto(f"{app_url}/account")
    app.wait_for_url(LOGIN)  # the pending login grants no access
    _password_step(app, app_url, username)
    app.fill("#otp", _code(app_url, e164))
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-username")).to_have_text(username)


def test_log_in_with_a_backup_code(app: Page, app_url: str, user_with_2fa: tuple[str, str]):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)
    app.fill("#otp", _code(app_url, e164))
    app.wait_for_url(ACCOUNT)
    first = _generate_backup_codes(app, app_url, e164)[0]
    app.click("#hide-backup-codes")
    expect(app.locator("#backup-codes")).to_have_count(0)
    _log_out(app)

    sent = len(_outbox(app_url, e164))
    _password_step(app, app_url, username)
    app.click("#use-backup-code")
    app.fill("#backup-code", first.lower().replace("-", " "))
    app.click("#verify-otp")
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#backup-codes-left")).to_have_text("9")
    _log_out(app)

    _password_step(app, app_url, username)  # the same backup code works once only
    app.click("#use-backup-code")
    app.fill("#backup-code", first)
    app.click("#verify-otp")
    expect(app.locator("#error")).to_have_text("That backup code is not valid or was already used.")
    assert len(_outbox(app_url, e164)) == sent + 2  # each password step sent an SMS code


def _generate_backup_codes(page: Page, app_url: str, e164: str) -> list[str]:
    """New backup codes from the account page: the password, then the code sent to the phone."""
    page.click("#generate-backup-codes")
    page.fill("#password", PASSWORD)
    page.click("#confirm-backup-codes")
    expect(page.locator("#current-factor #otp")).to_be_visible()
    expect(page.locator("#backup-codes")).to_have_count(0)  # not before the phone's code
    page.fill("#otp", _code(app_url, e164))
    codes = page.locator("#backup-codes li")
    expect(codes).to_have_count(10)
    expect(page.locator("#backup-codes-left")).to_have_text("10")
    page.click("#code-done")
    return [code.strip() for code in codes.all_inner_texts()]


def test_change_phone_with_2fa_asks_the_current_factor_first(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _, new_typed, new_e164 = _fresh_user()
    _, other_typed, other_e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _enable_2fa(app, app_url, e164)

    # Password, then the code to the CURRENT phone, then the new number and its code.
    app.click("#change-phone")
    expect(app.locator("#phone")).to_have_count(0)  # no new number before the current factor
    app.fill("#password", PASSWORD)
    app.press("#password", "Enter")  # keyboard: Enter submits each step
    expect(app.locator("#current-factor #otp")).to_be_visible()
    expect(app.locator("#current-factor")).to_contain_text(f"+1******{e164[-4:]}")
    app.fill("#otp", _code(app_url, e164))  # the whole code submits itself
    expect(app.locator("#message")).to_have_text("Confirmed. Now enter your new phone number.")
    app.fill("#new-phone-form #phone", new_typed)
    app.press("#new-phone-form #phone", "Enter")
    expect(app.locator("#otp")).to_be_visible()
    expect(app.locator("#current-factor")).to_have_count(0)  # the new number's step takes no backup code
    app.fill("#otp", _code(app_url, new_e164))
    expect(app.locator("#message")).to_contain_text("Your phone number was changed.")
    expect(app.locator("#account-phone")).to_have_text(f"+1 ******{new_e164[-4:]}")
    assert "changed" in _outbox(app_url, e164)[0]["text"]  # the old number gets the notice
    app.click("#code-done")

    # The phone is not at hand: a backup code stands in for the current phone's code.
    codes = _generate_backup_codes(app, app_url, new_e164)
    app.click("#hide-backup-codes")
    app.click("#change-phone")
    app.fill("#password", PASSWORD)
    app.click("#send-current-code")
    expect(app.locator("#current-factor #otp")).to_be_visible()
    app.focus("#use-backup-code")
    app.keyboard.press("Enter")
    expect(app.locator("#backup-code")).to_be_focused()
    app.fill("#backup-code", "AAAA-BBBB-CCCC-DDDD")
    app.press("#backup-code", "Enter")
    expect(app.locator("#error")).to_have_text("That backup code is not valid or was already used.")
    app.fill("#backup-code", codes[0])
    app.press("#backup-code", "Enter")
    expect(app.locator("#message")).to_have_text("Confirmed. Now enter your new phone number.")
    expect(app.locator("#backup-codes-left")).to_have_text("9")
    app.fill("#new-phone-form #phone", other_typed)
    app.click("#send-change-code")
    app.fill("#otp", _code(app_url, other_e164))
    expect(app.locator("#account-phone")).to_have_text(f"+1 ******{other_e164[-4:]}")


def test_remembered_device_skips_the_sms(app: Page, app_url: str, user_with_2fa: tuple[str, str]):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)
    app.check("#remember-device")  # before the code: a whole code submits itself
    app.fill("#otp", _code(app_url, e164))
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#devices li")).to_have_count(1)
    _log_out(app)

    sent = len(_outbox(app_url, e164))
    _password_step(app, app_url, username, code_expected=False)  # no code asked on this browser
    assert len(_outbox(app_url, e164)) == sent


def test_turn_2fa_off_and_on(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _enable_2fa(app, app_url, e164)
    app.click("#disable-2fa")
    app.fill("#password", "not my password at all, sorry")
    app.click("#confirm-disable-2fa")
    expect(app.locator("#error")).to_have_text("Incorrect username or password.")
    app.fill("#password", PASSWORD)
    app.click("#confirm-disable-2fa")
    expect(app.locator("#otp")).to_be_visible()
    app.fill("#otp", _code(app_url, e164))
    expect(app.locator("#message")).to_have_text("Two-factor login is off.")
    expect(app.locator("#two-factor-status")).to_have_text("off")
    app.click("#code-done")
    _log_out(app)
    _password_step(app, app_url, username, code_expected=False)  # password alone now


def test_change_phone_notifies_the_old_number(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _, new_typed, new_e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _change_phone_without_2fa(app, app_url, new_typed, new_e164)
    notice = _outbox(app_url, e164)[0]
    assert notice["code"] == "" and "changed" in notice["text"] and new_e164 not in notice["text"]


def test_lockout_after_repeated_wrong_codes(app: Page, app_url: str, user_with_2fa: tuple[str, str]):
    username, e164 = user_with_2fa
    _password_step(app, app_url, username)
    code = _code(app_url, e164)
    wrongs = [w for w in ("000000", "111111", "222222", "333333") if w != code][:3]
    for wrong in wrongs:  # OTP_LOCKOUT_AFTER=3 in this run; a code refused once is not sent again
        app.fill("#otp", wrong)
        expect(app.locator("#error")).to_contain_text("That code is not correct.")
    app.fill("#otp", code)  # right, but the account is locked: the same answer as a wrong code
    expect(app.locator("#error")).to_contain_text("That code is not correct.")
    expect(app.locator("#otp")).to_be_visible()
    assert "otp_session" not in {c["name"] for c in app.context.cookies()}


def test_logout_ends_the_session(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    token = next(c["value"] for c in app.context.cookies() if c["name"] == "otp_session")
    _log_out(app)
    assert "otp_session" not in {c["name"] for c in app.context.cookies()}
    me = httpx.get(f"{app_url}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # the old token is dead on the server too
    app.goto(f"{app_url}/account")
    app.wait_for_url(LOGIN)


def test_sign_out_everywhere(app: Page, app_url: str, browser: Browser):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    other = browser.new_context()
    try:
        second = other.new_page()
        _password_step(second, app_url, username, code_expected=False)
        app.reload()
        expect(app.locator("#sessions li")).to_have_count(2)
        app.click("#sign-out-everywhere")
        app.click("#confirm-sign-out-all")
        app.wait_for_url(LOGIN)
        second.goto(f"{app_url}/account")
        second.wait_for_url(LOGIN)
    finally:
        other.close()


def _fill_sign_up(page: Page, app_url: str, username: str, typed: str) -> None:
    page.goto(f"{app_url}/signup")
    _ready(page, "signup-submit")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#phone", typed)
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()


def test_sign_up_with_a_mistyped_number_can_change_it(app: Page, app_url: str):
    username, typed, wrong_e164 = _fresh_user()
    _, right_typed, right_e164 = _fresh_user()
    _fill_sign_up(app, app_url, username, typed)
    app.click("#change-number")
    expect(app.locator("#phone")).to_have_value(typed)  # what was typed, to correct
    app.fill("#phone", right_typed)
    app.click("#send-otp")
    full = f"+1 {right_e164[2:5]}-{right_e164[5:8]}-{right_e164[8:]}"  # typed here: shown in full
    expect(app.locator("#message")).to_contain_text(full)
    expect(app.locator("#entered-phone")).to_have_text(full)
    app.fill("#otp", _code(app_url, right_e164))
    app.wait_for_url(ACCOUNT)
    expect(app.locator("#account-phone")).to_have_text(f"+1 ******{right_e164[-4:]}")
    expect(app.locator("#account-phone").locator("..")).to_contain_text("(verified)")
    assert len(_outbox(app_url, wrong_e164)) == 1


def test_a_taken_username_brings_the_form_back_with_a_way_to_log_in(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    _log_out(app)
    _, other_typed, other_e164 = _fresh_user()
    _fill_sign_up(app, app_url, username, other_typed)  # looks the same as a free name until verified
    app.fill("#otp", _code(app_url, other_e164))
    expect(app.locator("#error")).to_have_text(
        "This username or email is already taken. Choose another, or log in if the account is yours."
    )
    expect(app.locator("#username")).to_have_value(username)
    expect(app.locator("#phone")).to_have_value(other_typed)
    expect(app.locator("#signup-submit")).to_be_enabled()
    # A link, told apart from the notice around it by more than its colour (WCAG 1.4.1).
    assert "underline" in app.locator("#taken-login").evaluate("a => getComputedStyle(a).textDecorationLine")
    app.click("#taken-login")
    app.wait_for_url(LOGIN)


def test_an_unverified_account_can_change_its_number(app: Page, app_url: str):
    username, typed, e164 = _fresh_user()
    _, new_typed, new_e164 = _fresh_user()
    _fill_sign_up(app, app_url, username, typed)  # and never enter the code
    _password_step(app, app_url, username, code_expected=False)
    expect(app.locator("#account-phone").locator("..")).to_contain_text("(not verified)")
    _change_phone_without_2fa(app, app_url, new_typed, new_e164)
    expect(app.locator("#account-phone").locator("..")).to_contain_text("(verified)")
    assert [m["code"] != "" for m in _outbox(app_url, e164)] == [True]  # no notice to a number never proven


def _copy_project(target: Path) -> Path:
    """The project's tracked files and its built frontend, for a server of its own.

    A server builds the frontend with its own port in it: in the session server's
    directory that would send the session's pages to this one. The installed
    frontend packages are linked, not copied (nothing writes them).
    """
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in files.split():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    web = ROOT / ".web"
    (target / ".web").mkdir()
    for item in web.iterdir():
        if item.name == "node_modules":
            shutil.copytree(item, target / ".web" / item.name, symlinks=True, copy_function=os.link)
        elif item.is_dir():
            shutil.copytree(item, target / ".web" / item.name, symlinks=True)
        else:
            shutil.copy2(item, target / ".web" / item.name)
    return target


def _start_app(project: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`reflex run` as the session's server runs it, on `port`; returns once it answers."""
    command = ["run", "--env", "prod", "--single-port", "--backend-port", str(port)]
    with log.open("a") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "reflex"), *command],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_up([f"{url}/api/health", url], [process], log, START_TIMEOUT)
    return process


def test_a_restart_of_the_server_is_explained_and_a_code_from_before_harms_nothing(
    page: Page, tmp_path: Path
):
    """The app's own server, restarted under an open page: each flow says what happened."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{tmp_path / 'restart.db'}",
        "REFLEX_CORS_ALLOWED_ORIGINS": url,
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
        **PUMPING_OFF,
    }
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_BASE_URL"):
        env.pop(name, None)
    env["OTP_PROVIDER"] = "sandbox"  # production mode runs the sandbox only when told to
    log = tmp_path / "reflex.log"
    project = _copy_project(tmp_path / "app")
    migrate(project, env)
    server = _start_app(project, port, env, log)
    try:
        username, typed, e164 = _fresh_user()
        _sign_up(page, url, username, typed, e164)
        _enable_2fa(page, url, e164)
        _log_out(page)
        _password_step(page, url, username)
        before = _code(url, e164)
        page.wait_for_timeout(3_000)  # the disk state manager has written the tab's state (2 s debounce)

        stop([server])
        expect(page.locator("#connection-banner")).to_be_visible()
        server = _start_app(project, port, env, log)
        notice = page.locator("#notice")
        expect(notice).to_have_text(
            "Your session was interrupted (the server restarted). Please enter your password again.",
            timeout=30_000,
        )
        expect(page.locator("#login-submit")).to_be_enabled()

        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page.locator("#otp")).to_be_visible()
        expect(notice).to_have_count(0)
        after = _code(url, e164)
        if before != after:  # the code from before the restart is just a wrong code
            page.fill("#otp", before)
            expect(page.locator("#error")).to_have_text("That code is not correct. 4 attempts left.")
        page.fill("#otp", after)
        page.wait_for_url(ACCOUNT)

        page.goto(url)
        _ready(page, "send-otp")
        page.fill("#phone", "(415) 555-2692")
        page.click("#send-otp")
        expect(page.locator("#otp")).to_be_visible()
        stop([server])
        expect(page.locator("#connection-banner")).to_be_visible()
        server = _start_app(project, port, env, log)
        expect(notice).to_have_text(
            "Your session was interrupted (the server restarted). Please request a new code.", timeout=30_000
        )
        expect(page.locator("#send-otp")).to_be_enabled()
    finally:
        stop([server])
