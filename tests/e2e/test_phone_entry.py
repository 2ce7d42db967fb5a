"""Phone and code entry in a real browser: the country picker and its search, the browser's region,
`+44` switching the picker, formatting as you type, the number in full with "edit", and a code
that submits itself (typed, pasted with spaces or dashes) exactly once."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect


def _outbox(app_url: str, e164: str) -> list[dict[str, str]]:
    response = httpx.get(f"{app_url}/sandbox/messages", params={"recipient": e164})
    response.raise_for_status()
    return response.json()["messages"]


def _open(page: Page, app_url: str) -> Page:
    page.goto(app_url)
    page.wait_for_selector("#phone")
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    return page


def _send(page: Page, national: str, country: str = "US") -> None:
    page.select_option("#country", country)
    page.fill("#phone", national)
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()


def test_the_closed_picker_shows_the_flag_and_dialing_code_of_the_browsers_region(
    browser: Browser, app_url: str
):
    for locale, region, shown, name in (
        ("en-GB", "GB", "🇬🇧 +44", "Country"),
        ("es-ES", "ES", "🇪🇸 +34", "País"),  # a Spanish browser gets the page in Spanish too
        ("en-US", "US", "🇺🇸 +1", "Country"),
    ):
        context = browser.new_context(locale=locale)
        page = _open(context.new_page(), app_url)
        expect(page.locator("#country")).to_have_value(region)
        expect(page.locator(".country-shown")).to_have_text(shown)
        expect(page.locator("#country")).to_have_accessible_name(name)
        context.close()


def test_a_browser_without_a_region_gets_the_configured_default(browser: Browser, app_url: str):
    context = browser.new_context(locale="fr")  # a language alone names no country
    page = _open(context.new_page(), app_url)
    expect(page.locator("#country")).to_have_value("US")  # OTP_DEFAULT_COUNTRY
    context.close()


def test_the_search_finds_a_country_by_name_dialing_code_and_iso_code(app: Page):
    search = app.locator("main #country-search")
    expect(search).to_have_accessible_name("Search countries")
    for query in ("spain", "+34", "ES"):
        search.fill(query)
        expect(app.locator("#country")).to_have_value("ES")
        expect(app.locator(".country-shown")).to_have_text("🇪🇸 +34")
    search.fill("spain")
    expect(app.locator("#country option")).to_have_count(1)
    expect(app.locator("#country-search-status")).to_have_text("1 country matches: Spain is chosen.")
    search.fill("+1")
    expect(app.locator("#country")).to_have_value("US")  # the code's main country first
    assert app.locator("#country option").count() > 10  # every +1 country
    search.fill("zzzz")
    expect(app.locator("#country-search-status")).to_have_text(
        "No country matches. The list shows every country."
    )
    expect(app.locator("#country")).to_have_value("US")  # the choice is kept
    search.fill("")
    assert app.locator("#country option").count() > 200
    expect(app.locator("#country-search-status")).to_have_count(1)
    expect(app.locator("#country-search-status")).to_have_text("")


def test_the_picker_works_by_keyboard_alone(app: Page):
    app.locator("#country-search").focus()
    app.keyboard.type("germ")
    expect(app.locator("#country")).to_have_value("DE")
    app.keyboard.press("Enter")  # submits nothing: on to the number
    expect(app.locator("#phone")).to_be_focused()
    expect(app.locator("#otp")).to_have_count(0)
    app.locator("#country-search").fill("")
    expect(app.locator("#country option")).not_to_have_count(1)
    app.locator("#country").focus()
    app.keyboard.press("ArrowDown")  # the native select: the next country after Germany
    expect(app.locator("#country")).to_have_value("GH")
    expect(app.locator(".country-shown")).to_have_text("🇬🇭 +233")


def test_a_number_typed_with_plus_or_00_switches_the_picker_and_is_formatted(app: Page):
    phone = app.locator("#phone")
    phone.press_sequentially("+442079460958", delay=20)
    expect(app.locator("#country")).to_have_value("GB")
    expect(app.locator(".country-shown")).to_have_text("🇬🇧 +44")
    expect(phone).to_have_value("+44 20 7946 0958")
    phone.fill("")
    phone.press_sequentially("0034612345678", delay=20)
    expect(app.locator("#country")).to_have_value("ES")
    expect(phone).to_have_value("+34 612 34 56 78")


def test_a_national_number_is_formatted_as_typed_and_deletes_are_left_alone(app: Page):
    app.select_option("#country", "US")
    phone = app.locator("#phone")
    phone.press_sequentially("4155554301", delay=20)
    expect(phone).to_have_value("(415) 555-4301")
    phone.press("Backspace")
    phone.press("Backspace")
    app.wait_for_timeout(600)  # longer than the typing pause: a reformat would have come
    expect(phone).to_have_value("(415) 555-43")
    phone.press_sequentially("01", delay=20)
    expect(phone).to_have_value("(415) 555-4301")
    app.click("#send-otp")
    expect(app.locator("#entered-phone")).to_have_text("+1 415-555-4301")


def test_the_code_step_shows_the_number_in_full_with_edit_back_to_it(app: Page, app_url: str):
    app.select_option("#country", "GB")
    _send(app, "07400 124302", country="GB")
    expect(app.locator("#entered-phone")).to_have_text("+44 7400 124302")
    expect(app.locator("#message")).to_contain_text("+44 7400 124302")
    expect(app.locator("#edit-phone")).to_have_text("edit")
    app.click("#edit-phone")
    expect(app.locator("#phone")).to_have_value("07400 124302")
    expect(app.locator("#phone")).to_be_focused()
    expect(app.locator("#country")).to_have_value("GB")
    app.click("#send-otp")
    expect(app.locator("#otp")).to_be_visible()
    app.fill("#otp", _outbox(app_url, "+447400124302")[0]["code"])
    expect(app.locator("#verified")).to_contain_text("+44******4302")  # masked once done


def test_the_code_submits_itself_on_its_last_digit_once(app: Page, app_url: str):
    _send(app, "(415) 555-4303")
    code = _outbox(app_url, "+14155554303")[0]["code"]
    wrong = "000000" if code != "000000" else "111111"
    otp = app.locator("#otp")
    otp.press_sequentially(wrong, delay=30)
    expect(app.locator("#error")).to_have_text("That code is not correct. 4 attempts left.")
    otp.press("Enter")  # "Verify" again on the same code: it was answered, not sent twice
    app.click("#verify-otp")
    app.wait_for_timeout(500)
    expect(app.locator("#error")).to_have_text("That code is not correct. 4 attempts left.")
    otp.fill("")
    otp.press_sequentially(code, delay=30)
    expect(app.locator("#verified")).to_contain_text("Phone number verified")


def test_a_pasted_code_with_spaces_or_dashes_submits_itself(app: Page, app_url: str):
    for number, e164, separator in (
        ("(415) 555-4304", "+14155554304", " "),
        ("(415) 555-4305", "+14155554305", "-"),
    ):
        _open(app, app_url)
        _send(app, number)
        code = _outbox(app_url, e164)[0]["code"]
        expect(app.locator("#otp")).to_have_attribute("autocomplete", "one-time-code")
        app.locator("#otp").fill(
            f"{code[:3]}{separator}{code[3:]}"
        )  # as a paste delivers it: one input event
        expect(app.locator("#verified")).to_contain_text("Phone number verified")


def test_the_sms_ends_with_the_webotp_line_for_the_apps_host(app: Page, app_url: str):
    _send(app, "(415) 555-4306")
    (message,) = _outbox(app_url, "+14155554306")
    last_line = message["text"].splitlines()[-1]
    assert re.fullmatch(r"@localhost #[0-9]{6}", last_line)
    assert last_line == f"@localhost #{message['code']}"
