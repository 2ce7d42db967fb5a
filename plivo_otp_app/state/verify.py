"""The phone-verification page's state: what the browser sees, and the handlers it may call.

Every public handler can be called from the browser with any arguments, so
each one checks its inputs and does nothing else than one service call. The
verification handle lives in a backend-only var and never reaches the browser.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import reflex as rx

from .. import log
from ..config import get_settings
from ..errors import OtpError, RateLimited
from ..phone import MAX_INPUT_LENGTH
from ..services import Started, get_verification_service

T = TypeVar("T")


class VerifyState(rx.State):
    """Phone, code, loading and verified flags, like the React original."""

    phone: str = ""
    country: str = get_settings().default_country
    channel: str = "sms"
    code_sent: bool = False
    loading: bool = False
    verified: bool = False
    masked_phone: str = ""
    message: str = ""
    error: str = ""
    resend_in: int = 0
    sandbox: bool = get_settings().is_sandbox
    code_length: int = get_settings().code_length

    _verification_id: str = ""
    _resend_at: float = 0.0
    _ticking: bool = False

    @rx.event
    def reset_flow(self) -> None:
        """Start over on page load: a reload must not resume a half-done flow."""
        self._clear(keep_phone=False)

    @rx.event
    def change_number(self) -> None:
        """Go back to the phone form, keeping what was typed."""
        self._clear(keep_phone=True)

    @rx.event
    async def send_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Start a verification for the number in the phone form."""
        if self.loading or self.code_sent or not isinstance(form_data, dict):
            return
        phone, country, channel = (form_data.get(k) for k in ("phone", "country", "channel"))
        if isinstance(phone, str):
            self.phone = phone[: MAX_INPUT_LENGTH * 2]
        if isinstance(country, str) and len(country) == 2:
            self.country = country.upper()
        if channel in ("sms", "voice"):
            self.channel = str(channel)
        self._begin()
        yield
        service = get_verification_service()
        started = await self._call(service.start, phone, country, channel, self._ip())
        if started is not None:
            self._verification_id = started.verification_id
            self.code_sent = True
            self._on_sent(started)
        self.loading = False
        if started is not None:
            yield VerifyState.tick

    @rx.event
    async def verify_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Check the code in the OTP form."""
        if self.loading or self.verified or not self.code_sent or not isinstance(form_data, dict):
            return
        code = form_data.get("otp")
        if isinstance(code, str):
            code = "".join(ch for ch in code if ch in "0123456789")
        self._begin()
        yield
        service = get_verification_service()
        checked = await self._call(service.check, self._verification_id, code, self._ip())
        if checked is not None:
            self.verified = True
            self.masked_phone = checked.masked
            self._verification_id = ""
        self.loading = False

    @rx.event
    async def resend_code(self) -> AsyncIterator[Any]:
        """Send the same code again by text message."""
        async for update in self._resend("sms"):
            yield update

    @rx.event
    async def call_me(self) -> AsyncIterator[Any]:
        """Deliver the code by a voice call instead."""
        async for update in self._resend("voice"):
            yield update

    @rx.event(background=True)
    async def tick(self) -> None:
        """Count the resend cooldown down once a second; one loop per tab."""
        async with self:
            if self._ticking:
                return
            self._ticking = True
        try:
            while True:
                async with self:
                    remaining = max(0, math.ceil(self._resend_at - time.time()))
                    self.resend_in = remaining
                    if remaining == 0 or not self.code_sent or self.verified:
                        return
                await asyncio.sleep(min(1.0, remaining))
        finally:
            async with self:
                self._ticking = False

    async def _resend(self, channel: str) -> AsyncIterator[Any]:
        if self.loading or self.verified or not self.code_sent:
            return
        self._begin()
        yield
        service = get_verification_service()
        started = await self._call(service.resend, self._verification_id, channel, self._ip())
        if started is not None:
            self.channel = channel
            self._on_sent(started)
        self.loading = False
        yield VerifyState.tick

    def _on_sent(self, started: Started) -> None:
        self.masked_phone = started.masked
        how = "calling" if started.channel == "voice" else "texting"
        self.message = f"We are {how} a {self.code_length}-digit code to {started.masked}."
        self._set_resend_after(started.resend_after)

    def _set_resend_after(self, seconds: float) -> None:
        self._resend_at = time.time() + seconds
        self.resend_in = math.ceil(seconds)

    def _begin(self) -> None:
        self.loading = True
        self.error = ""
        self.message = ""

    async def _call(self, fn: Callable[..., T], *args: Any) -> T | None:
        """Run a blocking service call off the event loop; errors become `self.error`."""
        try:
            return await asyncio.to_thread(fn, *args)
        except RateLimited as exc:
            if exc.scope == "resend-cooldown":
                self._set_resend_after(exc.retry_after)
            self.error = exc.user_message()
        except OtpError as exc:
            self.error = exc.user_message()
        except Exception as exc:
            log.event("internal_error", logging.ERROR, handler=fn.__name__, error=type(exc).__name__)
            logging.getLogger(log.LOGGER_NAME).debug("internal error", exc_info=True)
            self.error = "Something went wrong on our side. Please try again."
        return None

    def _ip(self) -> str:
        return self.router.session.client_ip or "unknown"

    def _clear(self, keep_phone: bool) -> None:
        if not keep_phone:
            self.phone = ""
        self.code_sent = False
        self.verified = False
        self.loading = False
        self.masked_phone = ""
        self.message = ""
        self.error = ""
        self.resend_in = 0
        self._verification_id = ""
        self._resend_at = 0.0
