"""Sign-up and log-in: the password steps. The code steps are the shared OTP flow's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import reflex as rx

from ..errors import NAME_TAKEN, OtpError, from_unexpected, send_failed_at_login
from ..landings import local_path
from ..services import get_account_service
from .auth import AuthState
from .verify import VerifyState

T = TypeVar("T")


class LoginState(AuthState):
    """Username or email and password; then the SMS step if two-factor login is on."""

    loading: bool = False
    error: str = ""

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """On page load: a signed-in browser goes to its account (or the page it came from); others
        start clean, and remember the page a `require_login` page sent them from (`?next=`, a path)."""
        self.error = ""
        self.loading = False
        self._return_to = local_path(self.router.url.query_parameters.get("next", ""))
        if await _attempt(self, None, self._current_user()) is not None:
            yield rx.redirect(self._landing())

    @rx.event
    async def submit(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Check the password; sign in, or hand the code step to the OTP flow."""
        if self.loading or not isinstance(form_data, dict):
            return
        self.loading, self.error = True, ""
        yield
        verify = await self.get_state(VerifyState)
        verify.notice = ""
        username, password = form_data.get("username"), form_data.get("password")
        bound_to = await _attempt(self, self._require_browser_binding)
        if bound_to is None:
            return
        result = await _attempt(
            self, lambda: get_account_service().login(username, password, self._ip(), self._device_token())
        )
        if result is None:
            return
        if result.user_id is not None:
            follow_up = await _attempt(self, None, self._sign_in(result.user_id))
            if follow_up is not None:
                yield follow_up
            return
        verify._take_over(
            result.started,
            "login",
            pending_token=result.pending_token or "",
            masked_phone=result.masked_phone,
            bound_to=bound_to,
        )
        if result.send_error is not None:
            verify.error = send_failed_at_login(result.send_error)
        yield VerifyState.tick


class SignupState(AuthState):
    """Username, optional email, password and phone; then the phone's code.

    What was typed (not the password) is kept, so that the form comes back filled in
    when the name turns out to be taken.
    """

    loading: bool = False
    error: str = ""
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
        self.error = NAME_TAKEN

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
        verify = await self.get_state(VerifyState)
        verify.notice = ""
        fields = [form_data.get(k) for k in ("username", "email", "password", "phone", "country", "channel")]
        bound_to = await _attempt(self, self._require_browser_binding)
        if bound_to is None:
            return
        result = await _attempt(self, lambda: get_account_service().signup(*fields, self._ip()))
        if result is None:
            return
        verify._take_over(result.started, "signup", user_id=result.user_id, bound_to=bound_to)
        verify.phone = self.phone
        yield VerifyState.tick


async def _attempt(
    state: LoginState | SignupState, call: Callable[[], T] | None, work: Awaitable[T] | None = None
) -> T | None:
    """Run a blocking service call (or await `work`) for a form; its error, in words, becomes
    the form's error, and the form is never left busy."""
    try:
        if work is not None:
            return await work
        assert call is not None
        return await asyncio.to_thread(call)
    except Exception as exc:  # noqa: BLE001 - typed errors have words; the rest a generic line
        error = exc if isinstance(exc, OtpError) else from_unexpected(exc)
        state.error = error.user_message()
        return None
    finally:
        state.loading = False
