"""Sign-up and log-in: the password steps. The code steps are the shared OTP flow's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from ..landings import local_path
from ..messages import NAME_TAKEN, say, send_failed_at_login
from ..services import get_login_service, get_signup_service
from .auth import AuthState
from .presenter import Shown, attempt
from .verify import VerifyState


class LoginState(AuthState):
    """Username or email and password; then the SMS step if two-factor login is on."""

    loading: bool = False
    error: str = ""
    #: The field `error` is about (`OtpError.field`), marked invalid on the page.
    error_field: str = ""

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """On page load: a signed-in browser goes to its account (or the page it came from); others
        start clean, and remember the page a `require_login` page sent them from (`?next=`, a path)."""
        self.error = ""
        self.loading = False
        self._return_to = local_path(self.router.url.query_parameters.get("next", ""))
        if await attempt(self, self._current_user) is not None:
            yield rx.redirect(self._landing())

    @rx.event
    async def submit(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Check the password; sign in, or hand the code step to the OTP flow."""
        if self.loading or not isinstance(form_data, dict):
            return
        self.loading, self.error = True, ""
        # The page it came from, read again from the URL the form was sent from: the page's
        # load may not have run yet when a quick hand (or a script) submits.
        self._return_to = local_path(self.router.url.query_parameters.get("next", "")) or self._return_to
        yield
        if await attempt(self, lambda: self._log_in(form_data)):
            yield VerifyState.tick

    def _show(self, shown: Shown) -> None:
        """A failed step (`presenter`): its sentence on the form."""
        self.error, self.error_field = shown.error or shown.notice, shown.field

    async def _log_in(self, form_data: dict[str, Any]) -> bool:
        """The password step: signs in, or hands the code step to the OTP flow (True)."""
        verify = await self.get_state(VerifyState)
        verify.notice = ""
        username, password = form_data.get("username"), form_data.get("password")
        bound_to = self._require_browser_binding()
        result = await asyncio.to_thread(
            get_login_service().login, username, password, self._ip(), self._device_token()
        )
        if result.user_id is not None:
            await self._sign_in(result.user_id)
            return False
        verify._take_over(
            result.started,
            "login",
            pending_token=result.pending_token or "",
            masked_phone=result.masked_phone,
            bound_to=bound_to,
        )
        if result.send_error is not None:
            verify.error = send_failed_at_login(result.send_error.user_message())
        return True


class SignupState(AuthState):
    """Username, optional email, password and phone; then the phone's code.

    What was typed (not the password) is kept, so that the form comes back filled in
    when the name turns out to be taken.
    """

    loading: bool = False
    error: str = ""
    #: The field `error` is about (`OtpError.field`), marked invalid on the page.
    error_field: str = ""
    taken: bool = False
    username: str = ""
    email: str = ""
    phone: str = ""

    @rx.event
    def load(self) -> None:
        """Start clean on page load; a new account lands on its account page."""
        self._return_to = ""
        self.error = ""
        self.loading = False
        self.taken = False
        self.username = self.email = self.phone = ""

    def name_taken(self) -> None:
        """The phone is verified, but the name or email cannot be used: say so on the form."""
        self.taken = True
        self.error, self.error_field = say(NAME_TAKEN), "username"

    @rx.event
    async def submit(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Create the account and send its phone a code."""
        if self.loading or not isinstance(form_data, dict):
            return
        self.loading, self.error, self.taken = True, "", False
        for name in ("username", "email", "phone"):
            value = form_data.get(name)
            setattr(self, name, value[:254] if isinstance(value, str) else "")
        yield
        if await attempt(self, lambda: self._sign_up(form_data)):
            yield VerifyState.tick

    def _show(self, shown: Shown) -> None:
        """A failed step (`presenter`): its sentence on the form."""
        self.error, self.error_field = shown.error or shown.notice, shown.field

    async def _sign_up(self, form_data: dict[str, Any]) -> bool:
        """Create the account and hand its phone's code step to the OTP flow (True)."""
        verify = await self.get_state(VerifyState)
        verify.notice = ""
        names = ("username", "email", "password", "phone", "country", "channel")
        username, email, password, phone, country, channel = (form_data.get(k) for k in names)
        bound_to = self._require_browser_binding()
        result = await asyncio.to_thread(
            get_signup_service().signup, username, email, password, phone, country, channel, self._ip()
        )
        verify._take_over(result.started, "signup", user_id=result.user_id, bound_to=bound_to)
        verify.phone = self.phone
        if result.started is None:  # held for a challenge: the page solves it, then sends
            await verify._challenge_first(country, channel)
        return True
