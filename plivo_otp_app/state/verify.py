"""The one OTP flow's state, used by every page that sends a code.

On `/` it verifies any number; sign-up, login and the account page hand it a
verification they started (`_take_over`), and it finishes that purpose when
the code is right. Every public handler can be called from the browser with
any arguments, so each checks its inputs; what a verification is for, whose it
is and its handles live only in backend-only vars.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import reflex as rx

from .. import log
from ..config import Settings, get_settings
from ..errors import (
    DONE,
    LoginExpired,
    NotSignedIn,
    NotThisBrowser,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
    code_on_its_way,
    duration,
    from_unexpected,
    interrupted_message,
    wait_message,
)
from ..models import User
from ..phone import MAX_INPUT_LENGTH
from ..services import Started, get_account_service, get_verification_service
from ..tokens import tokens_equal
from .auth import AuthState

T = TypeVar("T")
#: The account page's flows: each step needs the live session that started the flow.
ACCOUNT_PURPOSES = (
    "enable-2fa",
    "disable-2fa",
    "change-phone",
    "confirm-phone",
    "backup-codes",
    "verify-phone",
)
#: The flows whose code step also takes a backup code (the current factor, when the phone is not at hand).
BACKUP_PURPOSES = ("login", "disable-2fa", "confirm-phone", "backup-codes")
#: The pre-login flows: each step needs the browser (its `otp_browser` cookie) that started the flow.
BROWSER_PURPOSES = ("login", "signup")
#: The verification service's purpose of a flow, where the two differ.
_SERVICE_PURPOSE = {"verify-phone": "signup"}
#: The defaults in code: a class body must not read the settings, which the app decides later.
_DEFAULTS = Settings()
#: When this server process started: a flow older than that was cut by a restart.
_PROCESS_STARTED = time.time()


class VerifyState(AuthState):
    """Phone, code, loading and verified flags, like the React original."""

    phone: str = ""
    country: str = _DEFAULTS.otp.default_country
    channel: str = "sms"
    code_sent: bool = False
    loading: bool = False
    verified: bool = False
    masked_phone: str = ""
    message: str = ""
    error: str = ""
    resend_in: int = 0
    flow: str = "verify"
    backup_mode: bool = False
    #: Whether this flow's code step offers "Use a backup code".
    backup_allowed: bool = False
    #: These two are set from the process's settings on every page load (`reset_flow`).
    sandbox: bool = _DEFAULTS.provider.is_sandbox
    code_length: int = _DEFAULTS.otp.code_length
    #: The code can take no more tries (expired, or too many wrong ones): only a new code helps.
    code_dead: bool = False
    #: Why the flow started over (a restart of the server lost it, a login timed out), with the next step.
    notice: str = ""
    #: Which page's flow this tab has in progress, kept by the browser (per tab) across a
    #: restart of the server, which forgets it: the two disagreeing is how a restart shows.
    flow_in_progress: str = rx.SessionStorage("", name="otp_flow_in_progress")

    _verification_id: str = ""
    _purpose: str = "verify"
    _user_id: int | None = None
    _pending_token: str = ""
    #: The hash of the browser cookie (pre-login flows) or session cookie (account flows) that
    #: started the flow: a Reflex tab token alone hands out the tab's state, so it must not be enough.
    _bound_to: str = ""
    _resend_at: float = 0.0
    _wait_scope: str = ""
    _wait_until: float = 0.0
    _flow_since: float = 0.0
    _ticking: bool = False

    @rx.var
    def resend_wait(self) -> str:
        """The resend countdown in words ("4 min 29 s")."""
        return duration(self.resend_in)

    @rx.event
    def reset_flow(self) -> None:
        """Start over on page load: a reload must not resume a half-done flow.

        A tab whose flow was cut by a restart of the server is told so, with the next
        step: the server no longer has the flow (memory state), or has it back from
        before this process started (disk or Redis state, reconnecting after the restart).
        """
        settings = get_settings()
        self.sandbox = settings.provider.is_sandbox
        self.code_length = settings.otp.code_length
        restarted = not self.code_sent or self._flow_since < _PROCESS_STARTED
        lost = self.flow_in_progress if restarted else ""
        self._clear(keep_phone=False)
        if lost in _PAGES:
            self.notice = interrupted_message(lost)

    @rx.event
    def change_number(self) -> None:
        """Go back to the phone form, keeping what was typed; a sign-up keeps its account."""
        if self._purpose == "verify":
            self._clear(keep_phone=True)
        elif self._purpose == "signup" and self.flow == "signup" and self.code_sent and not self.verified:
            self.code_sent = False
            self.code_dead = False
            self.error = self.message = ""
            self._verification_id = ""
            self._resend_at = 0.0
            self.resend_in = 0

    @rx.event
    def toggle_backup_mode(self) -> None:
        """Switch a code step between the SMS code and a backup code (login, and account
        changes that ask for the current factor)."""
        if self._purpose in BACKUP_PURPOSES and self.code_sent and not self.verified:
            self.backup_mode = not self.backup_mode
            self.error = ""

    @rx.event
    async def send_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Start a verification for the number in the phone form (`/`, or a sign-up's new number)."""
        if self.loading or self.code_sent or not isinstance(form_data, dict):
            return
        if self._purpose != "verify" and not (self._purpose == "signup" and self.flow == "signup"):
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
        try:
            started = await self._guard(lambda: self._start(phone, country, channel, self._ip()))
        finally:
            self.loading = False
        if started is not None:
            self._hand_over(started, self._purpose, self._user_id, bound_to=self._bound_to)
        yield VerifyState.tick

    @rx.event
    async def verify_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Check the code in the OTP form and finish the flow's purpose."""
        busy_or_done = self.loading or self.verified or self.code_dead
        if busy_or_done or not self.code_sent or not isinstance(form_data, dict):
            return
        code = form_data.get("otp")
        remember = form_data.get("remember_device") in ("on", "true", True)
        self._begin()
        yield
        try:
            follow_up = await self._guard(lambda: self._finish(code, remember, self._ip()))
        finally:
            self.loading = False
        if follow_up is not None:
            yield follow_up
        yield VerifyState.tick

    @rx.event
    async def verify_backup_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Finish a login, or confirm an account change, with a backup code instead of the SMS code."""
        busy_or_done = self.loading or self.verified or not self.code_sent
        if busy_or_done or self._purpose not in BACKUP_PURPOSES or not isinstance(form_data, dict):
            return
        code = form_data.get("backup_code")
        remember = form_data.get("remember_device") in ("on", "true", True)
        self._begin()
        yield
        try:
            follow_up = await self._guard(lambda: self._finish_with_backup_code(code, remember, self._ip()))
        finally:
            self.loading = False
        if follow_up is not None:
            yield follow_up
        yield VerifyState.tick

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
        """Count the resend cooldown and a limit's wait down once a second; one loop per tab."""
        async with self:
            if self._ticking:
                return
            self._ticking = True
        try:
            while True:
                async with self:
                    if not self._count_down(time.time()):
                        self._ticking = False
                        return
                await asyncio.sleep(1.0)
        finally:
            async with self:
                self._ticking = False

    def _count_down(self, now: float) -> bool:
        """Bring the countdowns to `now`; False once there is nothing left to count."""
        live = self.code_sent and not self.verified
        self.resend_in = max(0, math.ceil(self._resend_at - now)) if live else 0
        if self._wait_scope:
            left = max(0, math.ceil(self._wait_until - now))
            self.error = wait_message(self._wait_scope, left)
            if left == 0:
                self._wait_scope = ""
        return self.resend_in > 0 or bool(self._wait_scope)

    def _take_over(
        self,
        started: Started | None,
        purpose: str,
        user_id: int | None = None,
        pending_token: str = "",
        masked_phone: str = "",
        page: str = "",
        bound_to: str = "",
    ) -> None:
        """Start afresh on a verification another state started (sign-up, login, the account page)."""
        self._clear(keep_phone=False)
        self._hand_over(started, purpose, user_id, pending_token, masked_phone, page, bound_to)

    def _hand_over(
        self,
        started: Started | None,
        purpose: str,
        user_id: int | None = None,
        pending_token: str = "",
        masked_phone: str = "",
        page: str = "",
        bound_to: str = "",
    ) -> None:
        """Take over a started verification (or a login whose send failed); `page` is the
        page whose flow it is (default: the purpose's own page); `bound_to` is the hash of
        the cookie every later step must come with (`_check_bound`)."""
        self._purpose = purpose
        self.flow = purpose
        self._user_id = user_id
        self._pending_token = pending_token
        self._bound_to = bound_to
        self.code_sent = True
        self.verified = False
        self.code_dead = False
        self.backup_mode = False
        self.backup_allowed = purpose in BACKUP_PURPOSES
        self.notice = ""
        self.masked_phone = masked_phone
        self.flow_in_progress = page or purpose
        self._flow_since = time.time()
        if started is not None:
            self._verification_id = started.verification_id
            self._on_sent(started)

    async def _finish(self, code: object, remember: bool, ip: str) -> Any:
        """Check the code for this flow's purpose; returns a follow-up event, if any."""
        if self._purpose in ACCOUNT_PURPOSES:
            return await self._finish_account(code, ip)
        await self._check_bound()
        if self._purpose == "login":
            accounts = get_account_service()
            user_id = await asyncio.to_thread(accounts.login_with_code, self._pending_token, code, ip)
            follow_up = await self._sign_in(user_id, remember)
            self._succeeded(DONE["login"])
            return follow_up
        if self._purpose == "signup":
            user_id = self._user_id
            accounts = get_account_service()
            created = await asyncio.to_thread(
                accounts.finish_signup, user_id, self._verification_id, code, ip
            )
            if created and user_id is not None:
                follow_up = await self._sign_in(user_id)
                self._succeeded(DONE["signup"])
                return follow_up
            # The name was taken: back to the form, with its fields, to choose another.
            from .login import SignupState  # noqa: PLC0415 - the sign-up state imports this module

            (await self.get_state(SignupState)).name_taken()
            self._clear(keep_phone=False)
            return None
        service = get_verification_service()
        checked = await asyncio.to_thread(service.check, self._verification_id, code, ip)
        self.masked_phone = checked.masked
        self._succeeded("")
        return None

    async def _finish_with_backup_code(self, code: object, remember: bool, ip: str) -> Any:
        """A backup code in place of the SMS code: the login, or the account change's factor."""
        if self._purpose != "login":
            return await self._finish_account(code, ip, backup=True)
        await self._check_bound()
        accounts = get_account_service()
        issue = self._ticket_issuer(remember)
        # The ticket is issued in the transaction that uses the backup code up.
        ticket = await asyncio.to_thread(
            accounts.login_with_backup_code, self._pending_token, code, ip, issue
        )
        self._leave_with(ticket)
        self._succeeded(DONE["backup-code"])
        return None

    async def _finish_account(self, code: object, ip: str, backup: bool = False) -> Any:
        """Finish an account change (or confirm its current factor), in the live session that
        started it only; no new session."""
        user = await self._check_bound()
        assert user is not None and user.id is not None
        accounts = get_account_service()
        from .account import AccountState  # noqa: PLC0415 - the account page imports this module

        account = await self.get_state(AccountState)
        purpose, verification_id = self._purpose, self._verification_id
        if purpose == "backup-codes":
            codes = await asyncio.to_thread(
                accounts.regenerate_backup_codes, user.id, verification_id, code, ip, backup
            )
            self._succeeded(DONE[purpose])
            account._show_backup_codes_once(codes)
            return AccountState.refresh
        if purpose == "confirm-phone":
            await asyncio.to_thread(accounts.confirm_phone_change, user.id, verification_id, code, ip, backup)
            self._clear(keep_phone=False)
            account.open_new_phone_step()
            return AccountState.load  # a backup code may have been used: the count changed
        if purpose == "disable-2fa":
            await asyncio.to_thread(accounts.finish_disable_2fa, user.id, verification_id, code, ip, backup)
        else:
            finish = {
                "enable-2fa": accounts.finish_enable_2fa,
                "change-phone": accounts.finish_change_phone,
                "verify-phone": accounts.finish_signup,
            }
            await asyncio.to_thread(finish[purpose], user.id, verification_id, code, ip)
        self._succeeded(DONE[purpose])
        return AccountState.load

    async def _check_bound(self) -> User | None:
        """Refuse a step that does not come from the browser or session that started the flow.

        Account flows: the live session of the flow's user, and the very session (its token's
        hash) that started it; returns that user. Sign-up and login: the connection's
        `otp_browser` cookie. A public verification (`/`) is bound to nothing.

        Raises:
            NotSignedIn: An account flow's session has ended.
            NotThisBrowser: Another browser, or another session, than the flow's.
        """
        if self._purpose in ACCOUNT_PURPOSES:
            user = await self._require_user()
            if user.id != self._user_id:
                raise NotSignedIn("session user is not the verification's user")
            current: str = self._session_binding()
        elif self._purpose in BROWSER_PURPOSES:
            user, current = None, self._browser_binding()
        else:
            return None
        if not self._bound_to or not current or not tokens_equal(current, self._bound_to):
            raise NotThisBrowser(f"{self._purpose} step from another browser or session")
        return user

    def _succeeded(self, message: str) -> None:
        self.verified = True
        self.message = message
        self.flow_in_progress = ""
        self._verification_id = ""
        self._pending_token = ""
        self._bound_to = ""

    async def _resend(self, channel: str) -> AsyncIterator[Any]:
        if self.loading or self.verified or not self.code_sent:
            return
        self._begin()
        yield
        try:
            started = await self._guard(lambda: self._send_again(channel, self._ip()))
        finally:
            self.loading = False
        if started is not None:
            self.channel = channel
            self.code_dead = False
            self._verification_id = started.verification_id
            self._on_sent(started)
        yield VerifyState.tick

    async def _start(self, phone: object, country: object, channel: object, ip: str) -> Started:
        if self._purpose == "signup":
            await self._check_bound()
            accounts = get_account_service()
            return await asyncio.to_thread(
                accounts.change_signup_phone, self._user_id, phone, country, channel, ip
            )
        service = get_verification_service()
        return await asyncio.to_thread(service.start, phone, country, channel, ip)

    async def _send_again(self, channel: str, ip: str) -> Started:
        await self._check_bound()
        if self._purpose == "login":
            accounts = get_account_service()
            return await asyncio.to_thread(accounts.login_resend, self._pending_token, channel, ip)
        service = get_verification_service()
        purpose = _SERVICE_PURPOSE.get(self._purpose, self._purpose)
        return await asyncio.to_thread(
            service.renew, self._verification_id, channel, ip, purpose, self._user_id
        )

    def _on_sent(self, started: Started) -> None:
        self.masked_phone = self.masked_phone or started.masked
        self.message = code_on_its_way(started.channel, self.code_length, self.masked_phone)
        self._set_resend_after(started.resend_after)

    def _set_resend_after(self, seconds: float) -> None:
        self._resend_at = time.time() + seconds
        self.resend_in = math.ceil(seconds)

    def _begin(self) -> None:
        self.loading = True
        self.error = ""
        self.message = ""
        self.notice = ""
        self._wait_scope = ""

    async def _guard(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """Await service work; its error, in words, becomes `self.error`, with the next step.

        `work` is called inside the guard, so a failure while building its arguments
        (the client's address, a service) is answered like any other.

        A code that can take no more tries disables "Verify" and offers a new code, after
        the wait there is; a limit's wait counts down live (`tick`).
        """
        try:
            return await work()
        except RateLimited as exc:
            if exc.scope in ("resend-cooldown", "verification-locked") and self.code_sent:
                self._set_resend_after(exc.retry_after)
            self._wait(exc.scope, exc.retry_after)
            self.error = exc.user_message()
        except TooManyAttempts as exc:
            self.code_dead = True
            self._set_resend_after(exc.retry_after)
            self._wait("verification-locked", exc.retry_after)
            self.error = exc.user_message()
        except (LoginExpired, NotThisBrowser) as exc:
            self._clear(keep_phone=False)
            self.notice = exc.user_message()
        except NotSignedIn as exc:
            if self._purpose in ACCOUNT_PURPOSES:
                self._clear(keep_phone=False)
            self.error = exc.user_message()
        except VerificationExpired as exc:
            if self.code_sent:
                self.code_dead = True
                self._set_resend_after(0)
            self.error = exc.user_message()
        except OtpError as exc:
            self.error = exc.user_message()
        except Exception as exc:
            log.event("internal_error", logging.ERROR, error=type(exc).__name__)
            logging.getLogger(log.LOGGER_NAME).debug("internal error", exc_info=True)
            self.error = from_unexpected(exc).user_message()
        return None

    def _wait(self, scope: str, seconds: float) -> None:
        """Keep `self.error` counting down to the end of a limit's wait."""
        if seconds > 0 and scope != "resend-cooldown":
            self._wait_scope = scope
            self._wait_until = time.time() + seconds

    def _clear(self, keep_phone: bool) -> None:
        if not keep_phone:
            self.phone = ""
        self.code_sent = False
        self.verified = False
        self.code_dead = False
        self.loading = False
        self.backup_mode = False
        self.backup_allowed = False
        self.notice = ""
        self.flow_in_progress = ""
        self.flow = "verify"
        self.masked_phone = ""
        self.message = ""
        self.error = ""
        self.resend_in = 0
        self._verification_id = ""
        self._purpose = "verify"
        self._user_id = None
        self._pending_token = ""
        self._bound_to = ""
        self._resend_at = 0.0
        self._wait_scope = ""
        self._wait_until = 0.0


#: The pages whose flow a restart can interrupt (`flow_in_progress`).
_PAGES = ("verify", "signup", "login", "account")
