"""WCAG 2.2 rules that axe cannot judge, checked by hand once and kept here in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

#: A phone held at 320 CSS px wide (1.4.10 Reflow: 1280 px at 400 % zoom).
NARROW = {"width": 320, "height": 640}


@pytest.mark.parametrize(
    ("path", "link"),
    [("/", "sandbox outbox"), ("/login", "Create an account"), ("/signup", "Log in")],
)
def test_inline_links_are_underlined_not_only_coloured(
    page: Page, app_url: str, problems: list[str], path: str, link: str
):
    """1.4.1 Use of colour: a link inside a sentence has a cue that is not its colour."""
    page.goto(f"{app_url}{path}")
    expect(page.get_by_role("main").get_by_role("link", name=link, exact=True)).to_be_visible()
    links = page.locator("main a")
    assert links.count() >= 1
    for index in range(links.count()):
        decoration = links.nth(index).evaluate("a => getComputedStyle(a).textDecorationLine")
        assert "underline" in decoration, (links.nth(index).inner_text(), decoration)


@pytest.mark.parametrize("path", ["/", "/signup"])
def test_the_delivery_select_is_named_by_its_visible_label(
    page: Page, app_url: str, problems: list[str], path: str
):
    """2.5.3 Label in name: a speech user says what they see ("Send the code by") to reach it."""
    page.goto(f"{app_url}{path}")
    select = page.get_by_role("combobox", name="Send the code by")
    expect(select).to_be_visible()
    expect(select).to_have_id("channel")


def _send(page: Page, number: str) -> None:
    page.fill("#phone", number)
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()
    page.click("#change-number")
    expect(page.locator("#phone")).to_be_visible()


def test_the_sandbox_outbox_reflows_at_320_px(app: Page, app_url: str):
    """1.4.10 Reflow: at 320 CSS px the outbox needs no sideways scrolling of the page."""
    for number in ("(415) 555-2711", "(415) 555-2712", "(415) 555-2713"):
        _send(app, number)
    app.set_viewport_size(NARROW)
    app.goto(f"{app_url}/sandbox")
    expect(app.locator("#outbox")).to_contain_text("+14155552713")
    assert app.locator("#outbox tbody tr").count() >= 3
    width = app.evaluate("() => document.documentElement.scrollWidth")
    assert width <= NARROW["width"], width
    # A card is still a table row, and each value is read (and shown) with its heading.
    newest = app.get_by_role("row").filter(has_text="+14155552713").first  # other tests text it too
    expect(newest.get_by_role("cell", name="Recipient: +14155552713")).to_be_visible()
