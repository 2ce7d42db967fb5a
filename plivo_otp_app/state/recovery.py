"""A forgotten password: the name step and the new-password step. The code step between them is
the shared OTP flow's (`flows/recovery.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from ..enums import Purpose
from ..errors import NotThisBrowser, ResetExpired
from ..messages import DONE, say
from ..services import get_recovery_service
from ..tokens import tokens_equal
from .auth import AuthState
from .presenter import Shown, attempt
from .verify import VerifyState


class RecoveryState(AuthState):
    """Username or email; then (after the code) the new password, and a backup code with 2FA on."""

    loading: bool = False
    error: str = ""
    #: "name" (who forgot), "password" (the code was right), "done" (the password is changed).
    step: str = "name"
    #: The account has two-factor login on: the new password also takes an unused backup code.
    backup_required: bool = False
    message: str = ""

    #: The reset's handle once its code was right, and the browser cookie the code step came with.
    _reset_token: str = ""
    _bound_to: str = ""

    @rx.event
    def load(self) -> None:
        """Start clean on page load."""
        self._to_name_step()
        self.error = self.message = ""

    @rx.event
    async def submit_name(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Send a code to the named account's verified phone (or look as if we did)."""
        if self.loading or self.step != "name" or not isinstance(form_data, dict):
            return
        self.loading, self.error = True, ""
        yield
        if await attempt(self, lambda: self._start(form_data.get("username"))):
            yield VerifyState.tick

    @rx.event
    async def submit_password(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Set the new password; every session of the account ends."""
        if self.loading or self.step != "password" or not isinstance(form_data, dict):
            return
        self.loading, self.error = True, ""
        yield
        password, backup = form_data.get("new_password"), form_data.get("backup_code")
        if await attempt(self, lambda: self._complete(password, backup)):
            self._reset_token = self._bound_to = ""
            self.step, self.message = "done", say(DONE[Purpose.RESET_PASSWORD])

    def _open_password_step(self, reset_token: str, backup_required: bool) -> None:
        """The code was right (`flows.recovery`): ask for the new password, in this browser only."""
        self._reset_token = reset_token
        self._bound_to = self._browser_binding()
        self.backup_required = backup_required
        self.step = "password"
        self.error = ""

    def _show(self, shown: Shown) -> None:
        """A failed step (`presenter`): its sentence on the form."""
        self.error = shown.error or shown.notice

    async def _start(self, username: object) -> bool:
        verify = await self.get_state(VerifyState)
        verify.notice = ""
        bound_to = self._require_browser_binding()
        started = await asyncio.to_thread(get_recovery_service().start, username, self._ip())
        verify._take_over(started, Purpose.RESET_PASSWORD, bound_to=bound_to)
        return True

    async def _complete(self, password: object, backup_code: object) -> bool:
        current = self._browser_binding()
        if not self._bound_to or not current or not tokens_equal(current, self._bound_to):
            self._to_name_step()
            raise NotThisBrowser("reset step from another browser")
        try:
            await asyncio.to_thread(
                get_recovery_service().complete, self._reset_token, password, backup_code, self._ip()
            )
        except ResetExpired:
            self._to_name_step()
            raise
        return True

    def _to_name_step(self) -> None:
        self.step = "name"
        self.loading = False
        self.backup_required = False
        self._reset_token = self._bound_to = ""
