"""A Spanish and an Arabic browser, and the language switch, on the running app.

The browser's language comes from its `Accept-Language` (Playwright's `locale=`); the
page's words, `<html lang>` and `dir`, the server's sentences and the `locale` the sandbox
received for the code all follow it. The switch (`#language`) is a cookie: it outlives a
reload and wins over the browser's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct horse battery staple quietly"
SHOTS = Path(__file__).resolve().parents[2] / ".web" / "language-shots"


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


@pytest.fixture
def browser_in(browser: Browser) -> Iterator:
    """`open(locale)`: a hydrated `/` in a new browser whose language is `locale`."""
    contexts = []

    def open_page(app_url: str, locale: str) -> Page:
        context = browser.new_context(locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
        return page

    yield open_page
    for context in contexts:
        context.close()


def _send(page: Page, number: str) -> None:
    """A US number: the picker starts at the browser's region (es-ES: Spain, ar-EG: Egypt)."""
    page.select_option("#country", "US")
    page.fill("#phone", number)
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()


def test_a_spanish_browser_gets_spanish_words_and_a_spanish_code(browser_in, app_url: str):
    page = browser_in(app_url, "es-ES")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "es")
    expect(html).to_have_attribute("dir", "ltr")
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("Verifica tu teléfono")
    expect(main.locator("#send-otp")).to_have_text("Enviar código")
    expect(page).to_have_title("Verifica tu teléfono")
    expect(page.locator("#language")).to_have_value("es")

    _send(page, "(415) 555-4201")

    expect(main.locator("#message")).to_contain_text("Estamos enviando por SMS un código de 6 dígitos al +1")
    expect(main.locator("#message")).to_contain_text("4201.")
    expect(main.locator("label[for=otp]")).to_have_text("Introduce el código de 6 dígitos")
    sent = _outbox(app_url, "+14155554201")
    assert sent and sent[0]["locale"] == "es", sent

    main.locator("#otp").fill("000000")  # it submits itself
    expect(main.locator("#error")).to_contain_text("Ese código no es correcto.")


def test_an_arabic_browser_reads_right_to_left_and_plivo_gets_arabic(browser_in, app_url: str):
    page = browser_in(app_url, "ar-EG")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("تحقّق من هاتفك")
    # Right to left for real: the card's text starts at its right edge.
    assert main.locator("h1").evaluate("h => getComputedStyle(h).direction") == "rtl"

    _send(page, "(415) 555-4202")

    expect(main.locator("#message")).to_contain_text("نرسل رمزًا من 6 أرقام")
    sent = _outbox(app_url, "+14155554202")
    assert sent and sent[0]["locale"] == "ar", sent
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ar-code-step.png"), full_page=True)

    # The outbox says which language the code was asked in.
    page.goto(f"{app_url}/sandbox")
    row = page.locator("#outbox tbody tr").filter(has_text="+14155554202").first
    expect(row.locator("td.locale")).to_have_text("ar")
    expect(page.locator("#outbox th").nth(3)).to_have_text("اللغة")


def test_an_arabic_account_page_speaks_arabic_and_writes_dates_in_arabic(browser_in, app_url: str):
    page = browser_in(app_url, "ar")
    page.goto(f"{app_url}/signup")
    page.wait_for_function("() => !document.querySelector('#signup-submit')?.disabled")
    page.fill("#username", "arabic4203")
    page.fill("#password", PASSWORD)
    page.fill("#phone", "(415) 555-4203")
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", next(m["code"] for m in _outbox(app_url, "+14155554203") if m["code"]))
    page.wait_for_url(re.compile(r".*/account/?$"))

    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("حسابك")
    expect(main.locator("#two-factor-status")).to_have_text("معطّل")
    expect(main.locator("#account-phone")).to_have_attribute("dir", "ltr")
    # The session's start, as Arabic writes a date ("1 ديسمبر 2026، ..."), and this browser marked in Arabic.
    session = main.locator("#sessions li").first
    expect(session).to_contain_text("هذا المتصفح")
    expect(session).to_contain_text("UTC")
    assert re.search(
        r"\d+ (يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر) \d{4}",
        session.inner_text(),
    )
    page.screenshot(path=str(SHOTS / "ar-account.png"), full_page=True)


def test_the_switch_changes_the_words_at_once_and_sticks_across_reloads(browser_in, app_url: str):
    page = browser_in(app_url, "en-US")
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("Verify your phone")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.select_option("#language", "ar")
    expect(main.locator("h1")).to_have_text("تحقّق من هاتفك")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page.select_option("#language", "es")
    expect(main.locator("h1")).to_have_text("Verifica tu teléfono")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.reload()
    expect(main.locator("h1")).to_have_text("Verifica tu teléfono")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto(f"{app_url}/login")
    expect(main.locator("h1")).to_have_text("Iniciar sesión")
    expect(page.locator("#nav-signup")).to_have_text("Crear cuenta")


def test_a_browser_with_no_language_of_ours_gets_english(browser_in, app_url: str):
    page = browser_in(app_url, "de-DE")
    expect(page.locator("main h1")).to_have_text("Verify your phone")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_the_picker_names_countries_in_the_pages_language_and_finds_them_by_either_name(
    browser_in, app_url: str
):
    page = browser_in(app_url, "es-ES")
    picker = page.locator("#country")
    expect(picker.locator("option[value='DE']")).to_have_text("Alemania (+49)")
    page.fill("#country-search", "alemania")
    expect(picker).to_have_value("DE")
    page.fill("#country-search", "germany")  # the English name finds it too
    expect(picker).to_have_value("DE")
    expect(page.locator("#country-search-status")).to_contain_text("Alemania")

    page.select_option("#language", "en")  # the switch renames them at once
    expect(picker.locator("option[value='DE']")).to_have_text("Germany (+49)")
    page.select_option("#language", "ar")
    expect(picker.locator("option[value='DE']")).to_have_text("ألمانيا (\u2066+49\u2069)")
