"""A browser's human name ("Chrome on Linux") from its user agent, with ua-parser's rules."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

from . import messages

#: ua-parser's family names where people say something else.
_SAY = {"Mac OS X": "macOS", "HeadlessChrome": "Headless Chrome", "Chrome Mobile": "Chrome", "Other": ""}


@lru_cache(maxsize=512)
def device_name(user_agent: str) -> str:
    """ "Firefox on Windows", "Mobile Safari on iOS"; "Browser" when nothing is recognised."""
    found = parse(user_agent[:512])
    browser = _SAY.get(found.user_agent.family, found.user_agent.family) if found.user_agent else ""
    system = _SAY.get(found.os.family, found.os.family) if found.os else ""
    return messages.device_label(browser or messages.UNKNOWN_BROWSER, system)
