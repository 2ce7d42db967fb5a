"""Which links the site header shows: signed in or not, from the session in the database."""

from __future__ import annotations

import logging

import reflex as rx

from .. import log
from .auth import AuthState


class NavState(AuthState):
    """The header's one var. It only chooses links; every privileged handler checks the session itself."""

    signed_in: bool = False
    #: The session is an admin's: the header links the dashboard (which checks the role itself).
    admin: bool = False

    @rx.event
    async def load(self) -> None:
        """On every page load: is this browser's session live (`_current_user`, the database)?"""
        try:
            user = await self._current_user()
            self.signed_in, self.admin = user is not None, user is not None and user.role == "admin"
        except Exception as exc:  # noqa: BLE001 - a fault shows the signed-out links; the page says the rest
            log.event("nav_session_check_failed", logging.WARNING, error=type(exc).__name__)
            self.signed_in = self.admin = False
