"""The look in a real browser: light and dark themes (the system's and the `#theme` switch), a host
page the stylesheet leaves alone, reflow at 320 px and 200 % zoom, sessions named like devices,
backup codes copied and downloaded, the signed-out confirmation, and the screenshot script."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from reflex.testing import AppHarness
from test_account_flows import PASSWORD, _outbox, _ready, _sign_up

ROOT = Path(__file__).resolve().parents[2]
#: The card's background in each theme (`--surface`).
SURFACE = {"light": "rgb(255, 255, 255)", "dark": "rgb(22, 25, 34)"}
FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
_numbers = itertools.count(4500)


def _user() -> tuple[str, str, str]:
    n = next(_numbers)
    return f"look{n}", f"(415) 555-{n}", f"+1415555{n}"


def _surface(page: Page) -> str:
    return page.locator("main .card").evaluate("e => getComputedStyle(e).backgroundColor")


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_systems_preference(page: Page, app_url: str, problems: list[str], scheme: str):
    page.emulate_media(color_scheme=scheme)
    page.goto(app_url)
    expect(page.locator("#theme")).to_have_value("system")
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE[scheme])
    # The text keeps its contrast: light on dark, dark on light.
    colour = page.locator("main h1").evaluate("e => getComputedStyle(e).color")
    assert colour == ("rgb(17, 24, 39)" if scheme == "light" else "rgb(232, 234, 239)"), colour


def test_the_theme_switch_overrides_the_system_and_sticks(page: Page, app_url: str, problems: list[str]):
    page.emulate_media(color_scheme="light")
    page.goto(app_url)
    _ready(page, "send-otp")
    page.select_option("#theme", "dark")
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE["dark"])
    page.reload()
    expect(page.locator("#theme")).to_have_value("dark")
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE["dark"])
    page.goto(f"{app_url}/login")  # another page, the same choice
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE["dark"])
    page.emulate_media(color_scheme="dark")
    _ready(page, "login-submit")
    page.select_option("#theme", "light")
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE["light"])
    page.select_option("#theme", "system")
    expect(page.locator("main .card")).to_have_css("background-color", SURFACE["dark"])


@pytest.mark.parametrize(
    "size",
    [
        {"width": 320, "height": 640},  # 1.4.10 Reflow
        {"width": 640, "height": 400, "zoom": 2},  # a 1280 px window at 200 %
    ],
    ids=["320px", "200pct"],
)
def test_no_page_scrolls_sideways_when_narrow_or_zoomed(browser: Browser, app_url: str, size: dict[str, int]):
    context = browser.new_context(
        viewport={"width": size["width"], "height": size["height"]}, device_scale_factor=size.get("zoom", 1)
    )
    page = context.new_page()
    try:
        for path in ("/", "/login", "/signup", "/sandbox", "/no-such-page"):
            page.goto(f"{app_url}{path}")
            page.wait_for_selector("main .card")
            _no_sideways_scroll(page)
        username, typed, e164 = _user()
        _sign_up(page, app_url, username, typed, e164)
        _no_sideways_scroll(page)
        _new_backup_codes(page, app_url, e164)
        _no_sideways_scroll(page)
        # Each code on one line: no code breaks at its dashes.
        heights = page.locator("#backup-codes code").evaluate_all(
            "cs => cs.map(c => c.getClientRects().length)"
        )
        assert heights and set(heights) == {1}, heights
    finally:
        context.close()


def _new_backup_codes(page: Page, app_url: str, e164: str) -> list[str]:
    before = len(_outbox(app_url, e164))
    page.click("#generate-backup-codes")
    page.fill("#password", PASSWORD)
    page.click("#confirm-backup-codes")
    expect(page.locator("#otp")).to_be_visible()
    for _ in range(100):
        messages = _outbox(app_url, e164)
        if len(messages) > before:
            break
        time.sleep(0.1)
    page.fill("#otp", messages[0]["code"])
    expect(page.locator("#backup-codes li")).to_have_count(10)
    return page.locator("#backup-codes code").all_inner_texts()


def test_sessions_are_named_like_devices(browser: Browser, app_url: str):
    context = browser.new_context(user_agent=FIREFOX_ON_WINDOWS)
    page = context.new_page()
    try:
        username, typed, e164 = _user()
        _sign_up(page, app_url, username, typed, e164)
        session = page.locator("#sessions li")
        expect(session).to_have_count(1)
        expect(session.locator(".device-name")).to_have_text("Firefox on Windows")
        expect(session).to_contain_text("this browser")
        expect(session).not_to_contain_text("Mozilla")  # the raw user agent is not shown
    finally:
        context.close()


def test_backup_codes_are_copied_and_downloaded(browser: Browser, app_url: str, tmp_path: Path):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        username, typed, e164 = _user()
        _sign_up(page, app_url, username, typed, e164)
        codes = _new_backup_codes(page, app_url, e164)
        assert all(re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", c) for c in codes), codes
        page.click("#copy-codes")
        expect(page.locator("#codes-copied")).to_contain_text("Copied")
        page.wait_for_function("async () => (await navigator.clipboard.readText()).length > 0")
        assert page.evaluate("() => navigator.clipboard.readText()").split("\n") == codes
        with page.expect_download() as download:
            page.click("#download-codes")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == "backup-codes.txt"
        lines = saved.read_text().splitlines()
        assert username in lines[0]
        assert [line for line in lines[1:] if line] == codes
    finally:
        context.close()


def test_one_log_out_button_then_you_are_signed_out(page: Page, app_url: str, problems: list[str]):
    username, typed, e164 = _user()
    _sign_up(page, app_url, username, typed, e164)
    expect(page.get_by_role("button", name="Log out")).to_have_count(1)
    expect(page.locator("#site-nav #nav-account")).to_be_visible()
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login/?\?signed_out=1$"))
    expect(page.locator("main #signed-out")).to_have_text("You are signed out.")
    expect(page.locator("#site-nav #nav-login")).to_be_visible()
    # A fresh visit to the login page says nothing of the kind.
    page.goto(f"{app_url}/login")
    _ready(page, "login-submit")
    expect(page.locator("#signed-out")).to_have_count(0)


def test_the_outbox_says_how_long_ago_and_refreshes_itself(page: Page, app_url: str, problems: list[str]):
    page.goto(f"{app_url}/sandbox")
    page.wait_for_selector("#outbox")
    _, typed, e164 = _user()
    # A message sent while the outbox is open appears there without a click.
    other = page.context.new_page()
    other.goto(app_url)
    _ready(other, "send-otp")
    other.fill("#phone", typed)
    other.click("#send-otp")
    expect(other.locator("#otp")).to_be_visible()
    other.close()
    row = page.get_by_role("row").filter(has_text=e164).first
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator("time")).to_have_text("just now")
    assert row.locator("time").get_attribute("datetime", timeout=1000)


# A host app that mounts the library: its own elements keep their own look.


def LookHost() -> None:
    """A host's app: its own heading, label, field and button beside the verification flow,
    and a page of its own in the library's page shell."""
    import reflex as rx

    from plivo_otp_app import Routes, load_settings, mount
    from plivo_otp_app.components import page_shell, verification_flow

    def index() -> rx.Component:
        return rx.el.main(
            rx.el.h1("Acme", id="host-title"),
            rx.el.label("Host field", html_for="host-input", id="host-label"),
            rx.el.input(id="host-input"),
            rx.el.button("Host button", id="host-button"),
            rx.el.p("Host text", id="host-text"),
            verification_flow(),
        )

    def shell() -> rx.Component:
        return page_shell("Acme in the shell", rx.el.p("Host content", id="host-content"))

    app = rx.App()
    app.add_page(index, route="/")
    app.add_page(shell, route="/shell")
    mount(
        app,
        load_settings({"OTP_PROVIDER": "sandbox"}),
        Routes(verify="/auth/verify", signup="/auth/signup", login="/auth/login", account="/auth/account"),
    )


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppHarness]:
    monkeypatch = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("look-db") / "host.db"
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("REFLEX_CORS_ALLOWED_ORIGINS", "*")
    monkeypatch.syspath_prepend(str(ROOT))
    from plivo_otp_app import migrations

    migrations.upgrade(f"sqlite:///{db}")
    try:
        with AppHarness.create(root=tmp_path_factory.mktemp("lookhost"), app_source=LookHost) as harness:
            yield harness
    finally:
        monkeypatch.undo()
        for name in [m for m in sys.modules if m == "lookhost" or m.startswith("lookhost.")]:
            del sys.modules[name]


#: What the host's own elements look like with only Reflex's reset (no product rule reaches them).
_STYLE = """e => { const s = getComputedStyle(e); return [s.fontWeight, s.borderTopWidth, s.borderRadius,
  s.backgroundColor, s.paddingTop, s.fontSize, s.color]; }"""


def test_a_host_page_keeps_its_own_look(host: AppHarness, page: Page):
    assert host.frontend_url is not None
    page.goto(host.frontend_url)
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    ids = ("host-title", "host-label", "host-input", "host-button", "host-text")
    styled = {i: page.locator(f"#{i}").evaluate(_STYLE) for i in ids}
    body = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    # A bare element of the same tag beside each: what the host gets without the library.
    page.evaluate(
        """ids => { for (const id of ids) { const src = document.getElementById(id);
          const twin = document.createElement(src.tagName); twin.id = 'twin-' + id; src.after(twin); } }""",
        list(ids),
    )
    for i in ids:
        assert styled[i] == page.locator(f"#twin-{i}").evaluate(_STYLE), i
    assert body == "rgba(0, 0, 0, 0)", body  # not the product's background
    # The flow beside them has the product's look, and carries the sandbox hint.
    send = page.locator("#send-otp")
    assert send.evaluate("e => getComputedStyle(e).borderRadius") == "8px"
    expect(page.locator("#sandbox-banner")).to_be_visible()


def test_a_host_page_in_the_shell_shows_the_visitors_header_links(host: AppHarness, page: Page):
    """The header checks the session itself when it mounts: the host's page has no on_load of ours."""
    from reflex.config import get_config

    from plivo_otp_app.cookies import SESSION_COOKIE
    from plivo_otp_app.passwords import hash_password
    from plivo_otp_app.services import get_services
    from plivo_otp_app.usernames import check_username

    assert host.frontend_url is not None
    # The page on the socket's host (the backend's address), as one site: the cookie goes with the socket.
    backend_host = urlsplit(get_config().api_url).hostname
    frontend = urlsplit(host.frontend_url)
    shell = frontend._replace(netloc=f"{backend_host}:{frontend.port}", path="/shell").geturl()
    page.goto(shell)
    expect(page.locator("#host-content")).to_be_visible()
    expect(page.locator("#site-nav #nav-login")).to_have_attribute("href", "/auth/login")
    # A live session, as the login route makes it, and its cookie in this browser.
    services = get_services()
    name = check_username("lookhost")
    user_id = services.users.create(name, None, hash_password(PASSWORD), "+14155554599")
    assert user_id is not None
    token = services.sessions.create_session(user_id, "127.0.0.1", "test")
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": shell}])
    page.reload()
    expect(page.locator("#site-nav #nav-account")).to_have_attribute("href", "/auth/account")
    expect(page.locator("#site-nav #nav-logout")).to_be_visible()


def test_the_screenshot_script_writes_pictures(app_url: str, tmp_path: Path):
    """One language against the running app: every state reached, a PNG per state and theme."""
    options = ["--url", app_url, "--out", str(tmp_path), "--langs", "en", "--no-mobile"]
    options += ["--first-number", "4590"]
    done = subprocess.run(
        [sys.executable, "scripts/screenshots.py", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pictures = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "verify-en-light.png" in pictures and "account-backup-codes-en-dark.png" in pictures, pictures
    assert len(pictures) == 26, pictures
    assert all((tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in pictures)
