"""The visitor's colour theme: the system's (`prefers-color-scheme`), light or dark, kept in a cookie."""

from __future__ import annotations

import reflex as rx

#: The themes the switch offers; "system" follows the browser's `prefers-color-scheme`.
THEMES = ("system", "light", "dark")

#: A year: the choice outlives sessions (it is no secret, only a preference).
_YEAR = 365 * 24 * 3600


class ThemeState(rx.State):
    """One var, mirrored in the `potp_theme` cookie (Reflex syncs it; no script of ours)."""

    theme: str = rx.Cookie("system", name="potp_theme", max_age=_YEAR, same_site="lax")

    @rx.event
    def choose(self, theme: str) -> None:
        """The header's `#theme` switch; anything but a known theme is ignored."""
        if theme in THEMES:
            self.theme = theme
