"""The visitor's language: chosen with the header's switch (a cookie), else from `Accept-Language`.

`LanguageMiddleware` runs before every event of the browser: it works out the tab's
language, keeps `LanguageState.language` (what the compiled labels of `i18n.t()` are
indexed by) in step, and makes it the event's `current_language()`, in which
`messages.py` words every sentence the handler makes. Reflex awaits `preprocess` in the
task that then runs the handler (a background one too), so the context variable is the
handler's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx
from reflex.middleware.middleware import Middleware

from ..cookies import read_cookie
from ..translations import DEFAULT, LANGUAGES, negotiate, set_language

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.event import Event
    from reflex.state import BaseState, StateUpdate

#: The cookie the switch sets (read by the browser's events, and the socket's handshake of a new tab).
LANGUAGE_COOKIE = "otp_language"
_ONE_YEAR = 365 * 24 * 3600


class LanguageState(rx.State):
    """The tab's language (`language`: what the labels show) and the switch's choice (`chosen`)."""

    language: str = DEFAULT
    #: "" until the visitor picks one; kept in a cookie for a year (not HttpOnly: the page sets it).
    chosen: str = rx.Cookie("", name=LANGUAGE_COOKIE, max_age=_ONE_YEAR, same_site="lax")

    @rx.event
    def choose(self, language: str) -> None:
        """The switch's choice; anything but one of `LANGUAGES` is ignored."""
        if isinstance(language, str) and language in LANGUAGES:
            self.chosen = self.language = language
            set_language(language)

    def _wanted(self) -> str:
        """The switch's choice (this tab's, else the cookie the socket came with), else the browser's."""
        if self.chosen in LANGUAGES:
            return self.chosen
        return _from_headers(self.router.headers.cookie, self.router.headers.accept_language)


def _from_headers(cookie: str, accept_language: str) -> str:
    """The switch's cookie the socket came with, else the browser's `Accept-Language`."""
    from_cookie = read_cookie(cookie, LANGUAGE_COOKIE)
    if from_cookie in LANGUAGES:
        return str(from_cookie)
    return negotiate(accept_language)


class LanguageMiddleware(Middleware):
    """Every event handled in the tab's language (see the module docstring)."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        """Set the event's language, and the tab's where it changed; never stops the event."""
        try:
            languages = await state.get_state(LanguageState)
        except RuntimeError:  # not in this event's state tree (seen on a host app's pages)
            headers = state.router.headers
            set_language(_from_headers(headers.cookie, headers.accept_language))
            return None
        wanted = languages._wanted()
        if languages.language != wanted:
            languages.language = wanted
        set_language(wanted)
        return None
