"""The look's words made on the server: device names from user agents, how long ago a sandbox
message was delivered, and the theme switch refusing what it does not offer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reflex.state import State

from plivo_otp_app.devices import device_name
from plivo_otp_app.messages import time_ago
from plivo_otp_app.state.sandbox import _ago
from plivo_otp_app.state.theme import ThemeState

ROOT = Path(__file__).resolve().parents[2]
AGENTS = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0": "Firefox on Windows",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36": (
        "Chrome on Linux"
    ),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on macOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1": "Mobile Safari on iOS",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome on Android",
    "curl/8.5.0": "curl",
    "": "Browser",
    "\x00\ud800 garbage": "Browser",
}


@pytest.mark.parametrize(("agent", "name"), AGENTS.items())
def test_a_session_is_named_like_its_device(agent: str, name: str):
    assert device_name(agent) == name


def test_a_huge_user_agent_is_read_only_in_part():
    agent = "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0 " + "x" * 1_000_000
    assert device_name(agent) == "Firefox on Windows"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "just now"),
        (44, "just now"),
        (45, "1 min ago"),
        (150, "2 min ago"),
        (89 * 60, "89 min ago"),
        (90 * 60, "1 h ago"),
        (3 * 3600 - 1, "2 h ago"),
        (23 * 3600, "23 h ago"),
        (24 * 3600, "2026-11-30 09:00 UTC"),
    ],
)
def test_how_long_ago_a_message_came(seconds: int, said: str):
    assert time_ago(seconds, "2026-11-30 09:00 UTC") == said


def test_the_outbox_reads_the_stores_utc_times():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
    assert _ago("2026-12-01T11:56:59.5Z", now) == "3 min ago"
    assert _ago("2026-11-29T12:00:00Z", now) == "2026-11-29 12:00 UTC"


def _theme() -> ThemeState:
    root = State(_reflex_internal_init=True)  # type: ignore[call-arg]
    return root.get_substate(ThemeState.get_full_name().split(".")[1:])  # type: ignore[return-value]


@pytest.mark.parametrize("choice", ["light", "dark", "system"])
def test_the_theme_switch_takes_what_it_offers(choice: str):
    theme = _theme()
    theme.choose(choice)
    assert theme.theme == choice


@pytest.mark.parametrize("choice", ["", "DARK", "x" * 10_000, "dark; Path=/", None, 3, ["dark"]])
def test_the_theme_switch_ignores_anything_else(choice: object):
    theme = _theme()
    theme.choose(choice)  # type: ignore[arg-type]
    assert theme.theme == "system"


def _selectors(css: str) -> list[str]:
    """Every selector of the stylesheet (comments dropped; at-rules' own preludes skipped)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for match in re.finditer(r"([^{}]+)\{", css):
        prelude = match.group(1).strip()
        if not prelude.startswith("@"):
            found += [part.strip() for part in prelude.split(",")]
    return found


def test_every_rule_of_the_stylesheet_is_under_a_class_or_id_of_the_product():
    """A host page that mounts the components is not restyled: no bare `body`, `h1`, `button`, `*`."""
    css = (ROOT / "plivo_otp_app" / "styles.css").read_text()
    selectors = _selectors(css)
    assert len(selectors) > 50
    assert [s for s in selectors if not s.startswith((".", "#"))] == []
    # The product's own part (before the first block another part appends, `/* <part>: ...`) is all
    # under `.potp`, the root of each component.
    own = _selectors(re.split(r"/\* [a-z0-9]+: ", css, maxsplit=1)[0])
    assert [s for s in own if not s.startswith(".potp")] == []


def test_the_selector_scan_finds_a_bare_rule():
    assert _selectors("/* x { } */ body { margin: 0 } @media (x) { .potp h1, h2 { } }") == [
        "body",
        ".potp h1",
        "h2",
    ]
