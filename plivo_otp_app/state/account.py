"""The account page: phone, two-factor login, backup codes, devices and sessions.

Every handler first checks the session in the database (`_require_user`); a
tab opened before a sign-out keeps nothing it could use. A code flow started
here is bound to the session that started it (`VerifyState._check_bound`).

New backup codes are shown once: they live in a backend var, tied to the
session that generated them, and reach the page only through `new_backup_codes`,
which is empty for any other connection (a copied tab token), after
`BACKUP_CODES_SHOWN_SECONDS`, and after the next page load or account action.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import reflex as rx

from ..devices import device_name
from ..messages import (
    BACKUP_CODES_FILE,
    DONE,
    SESSION_SINCE,
    THIS_BROWSER,
    say,
    signed_out_others,
)
from ..routes import get_routes
from ..services import Services, Started, get_services
from ..tokens import tokens_equal
from ..translations import date, date_time
from .auth import AuthState
from .nav import NavState
from .presenter import Shown, attempt, present
from .verify import VerifyState

T = TypeVar("T")

#: Each panel, and the button that opens it (where the focus goes back when it closes).
_OPENED_BY = {
    "change-phone": "change-phone",
    "new-phone": "change-phone",
    "disable-2fa": "disable-2fa",
    "backup-codes": "generate-backup-codes",
    "sign-out-all": "sign-out-everywhere",
}

#: How long new backup codes stay on the page at most (until "I have saved them" or the next action).
BACKUP_CODES_SHOWN_SECONDS = 300.0


class AccountState(AuthState):
    """What the signed-in user sees and may change about their account."""

    signed_in: bool = False
    username: str = ""
    email: str = ""
    masked_phone: str = ""
    is_phone_verified: bool = False
    two_factor_enabled: bool = False
    #: A phone change asks for the current factor first (2FA on a verified phone).
    phone_change_needs_factor: bool = False
    backup_codes_left: int = 0
    devices: list[dict[str, str]] = []
    sessions: list[dict[str, str]] = []
    #: The account's own latest security events (`AccountChanges.security_events`), for its page.
    security_events: list[dict[str, str]] = []
    panel: str = ""
    message: str = ""
    error: str = ""
    #: The field `error` is about (`OtpError.field`), marked invalid on the page.
    error_field: str = ""
    loading: bool = False
    #: The new backup codes went to the clipboard (`#copy-codes`).
    codes_copied: bool = False

    _backup_codes: list[str] = []
    _backup_codes_for: str = ""
    _backup_codes_until: float = 0.0

    @rx.var(cache=False)
    def new_backup_codes(self) -> list[str]:
        """The codes just generated, for the session that generated them, for a short while."""
        current = self._session_binding()
        mine = bool(current) and tokens_equal(current, self._backup_codes_for)
        return list(self._backup_codes) if mine and time.time() < self._backup_codes_until else []

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """Fill the page from the database, or send the browser to the login page."""
        self._forget_backup_codes()
        async for update in self._refresh():
            yield update

    async def _refresh(self) -> AsyncIterator[Any]:
        self.error = ""
        try:
            user = await self._current_user()
            if user is None or user.id is None:
                self.signed_in = False
                yield rx.redirect(get_routes().login)
                return
            accounts = get_services()
            view = await asyncio.to_thread(accounts.account_changes.view, user.id)
            token = self._session_token()
            devices = await asyncio.to_thread(accounts.sessions.list_devices, user.id)
            sessions = await asyncio.to_thread(accounts.sessions.list_sessions, user.id, token)
            events = await asyncio.to_thread(accounts.account_changes.security_events, user.id)
        except Exception as exc:  # noqa: BLE001 - every failure is presented (`presenter`)
            self._show(present(exc))
            return
        self.signed_in = True
        self.username, self.email = view.display_username, view.email or ""
        self.masked_phone, self.is_phone_verified = view.masked_phone, view.is_phone_verified
        self.two_factor_enabled, self.backup_codes_left = view.two_factor_enabled, view.backup_codes_left
        self.phone_change_needs_factor = view.phone_change_needs_factor
        self.devices = [{"id": str(d.id), "label": d.label, "until": date(d.expires_at)} for d in devices]
        self.sessions = [
            {
                "id": str(s.id),
                "device": device_name(s.user_agent),
                "since": say(SESSION_SINCE).format(when=date_time(s.created_at)),
                "where": s.ip,
                "current": say(THIS_BROWSER) if s.current else "",
            }
            for s in sessions
        ]
        self.security_events = [
            {"kind": e.kind, "when": date_time(e.at), "where": e.address, "phone": e.masked_phone}
            for e in events
        ]

    @rx.event
    def open_panel(self, name: str) -> None:
        """Show one action's form (password prompts, new number) or question (sign out everywhere)."""
        if name in ("", *_OPENED_BY):
            self._forget_backup_codes()
            self.panel, self.error, self.message = name, "", ""

    @rx.event
    def close_panel(self) -> Any:
        """Close the open panel; the focus goes back to the button that opened it."""
        opener = _OPENED_BY.get(self.panel)
        self.panel, self.error = "", ""
        return rx.set_focus(opener) if opener else None

    @rx.event
    def panel_key(self, escape: bool) -> Any:
        """A key pressed in an open panel (the page sends only whether it was Escape): Escape closes it."""
        if escape is True and self.panel:
            return self.close_panel()
        return None

    @rx.event
    async def verify_phone(self) -> AsyncIterator[Any]:
        """Send a code to a still unverified phone (finish the sign-up)."""
        async for update in self._start_code(
            lambda accounts, user_id: accounts.signups.start_phone_verification(user_id, "sms", self._ip()),
            "verify-phone",
        ):
            yield update

    @rx.event
    async def enable_2fa(self) -> AsyncIterator[Any]:
        """Send a fresh code to the verified phone; the code turns 2FA on."""
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_enable_2fa(user_id, "sms", self._ip()),
            "enable-2fa",
        ):
            yield update

    @rx.event
    async def disable_2fa(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Password, then a code; then 2FA is off."""
        password = form_data.get("password") if isinstance(form_data, dict) else None
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_disable_2fa(
                user_id, password, "sms", self._ip()
            ),
            "disable-2fa",
        ):
            yield update

    def open_new_phone_step(self) -> None:
        """The current factor was confirmed: ask for the new number (the service checks it again)."""
        self.panel, self.error, self.message = "new-phone", "", say(DONE["confirm-phone"])

    @rx.event
    async def confirm_phone_change(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """A phone change of an account with 2FA: the password, then a code to the current phone
        (or a backup code); then the new number."""
        password = form_data.get("password") if isinstance(form_data, dict) else None
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_confirm_phone_change(
                user_id, password, "sms", self._ip()
            ),
            "confirm-phone",
        ):
            yield update

    @rx.event
    async def send_new_phone_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """The new number, once the current factor was confirmed; then its code."""
        data = form_data if isinstance(form_data, dict) else {}
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_new_phone(
                user_id, data.get("phone"), data.get("country"), data.get("channel", "sms"), self._ip()
            ),
            "change-phone",
        ):
            yield update

    @rx.event
    async def change_phone(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Without 2FA: password and the new number, then a code sent to the new number."""
        data = form_data if isinstance(form_data, dict) else {}
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_change_phone(
                user_id,
                data.get("password"),
                data.get("phone"),
                data.get("country"),
                data.get("channel", "sms"),
                self._ip(),
            ),
            "change-phone",
        ):
            yield update

    @rx.event
    async def generate_backup_codes(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Password, then a code to the phone (or an unused backup code); then ten new codes,
        shown once, and the old ones stop working."""
        password = form_data.get("password") if isinstance(form_data, dict) else None
        async for update in self._start_code(
            lambda accounts, user_id: accounts.account_changes.start_backup_codes(
                user_id, password, "sms", self._ip()
            ),
            "backup-codes",
        ):
            yield update

    def _show_backup_codes_once(self, codes: list[str]) -> None:
        """Keep new codes to show, to this session only and for a short while (not an event)."""
        self._backup_codes = list(codes)
        self._backup_codes_for = self._session_binding()
        self._backup_codes_until = time.time() + BACKUP_CODES_SHOWN_SECONDS
        self.panel = ""
        self.message = say(DONE["backup-codes"])

    @rx.event
    async def refresh(self) -> AsyncIterator[Any]:
        """Fill the page from the database again, keeping codes just shown."""
        async for update in self._refresh():
            yield update

    @rx.event
    def hide_backup_codes(self) -> None:
        """Forget the codes shown once."""
        self._forget_backup_codes()
        self.message = ""

    @rx.event
    def codes_were_copied(self) -> None:
        """`#copy-codes` put the codes on the clipboard (in the browser): say so."""
        self.codes_copied = bool(self.new_backup_codes)

    @rx.event
    def download_backup_codes(self) -> Any:
        """The codes just shown as a text file (`#download-codes`)."""
        codes = self.new_backup_codes
        if codes:
            text = "\n".join([say(BACKUP_CODES_FILE).format(username=self.username), "", *codes, ""])
            return rx.download(data=text, filename="backup-codes.txt", mime_type="text/plain")
        return None

    def _forget_backup_codes(self) -> None:
        self.codes_copied = False
        self._backup_codes = []
        self._backup_codes_for = ""
        self._backup_codes_until = 0.0

    @rx.event
    async def revoke_device(self, device_id: str) -> AsyncIterator[Any]:
        """Forget one remembered device."""
        # ASCII digits, few enough for a database integer: "²" and "9" * 5000 also pass isdigit().
        usable = isinstance(device_id, str) and device_id.isascii() and device_id.isdigit()
        if not usable or len(device_id) > 18:
            return
        done = await self._act(lambda a, uid: a.sessions.revoke_device(uid, int(device_id)))
        if done is not None:
            self.message = say(DONE["device-forgotten"])
            yield AccountState.load

    @rx.event
    async def sign_out_others(self) -> AsyncIterator[Any]:
        """End every other session of this account."""
        token = self._session_token()
        count = await self._act(lambda a, uid: a.sessions.end_all(uid, keep_token=token))
        if count is not None:
            self.message = signed_out_others(count)
            yield AccountState.load

    @rx.event
    async def sign_out_everywhere(self) -> AsyncIterator[Any]:
        """End every session of this account, this one included, once asked (`sign-out-all`)."""
        if self.panel != "sign-out-all":
            return
        self.panel = ""
        if await self._act(lambda a, uid: a.sessions.end_all(uid)) is not None:
            await attempt(self, self._signed_out)
            yield

    @rx.event
    async def logout(self) -> AsyncIterator[Any]:
        """End this session and clear its cookie."""
        self.error, self.message = "", ""
        if await attempt(self, self._signed_out) is not None:
            self.signed_in = False
        yield

    async def _signed_out(self) -> bool:
        await self._sign_out(signed_out_landing())
        # The landing is a full page load on this same state: the header would show
        # "Log out" there until the landing's own session check answered.
        (await self.get_state(NavState)).signed_in = False
        return True

    async def _start_code(
        self, start: Callable[[Services, int], Started], purpose: str
    ) -> AsyncIterator[Any]:
        """Start a verification for an account change and hand it to the OTP flow."""
        self.loading = True
        yield
        started = await self._act(lambda accounts, user_id: (user_id, start(accounts, user_id)))
        if started is None:
            return
        user_id, sent = started
        verify = await self.get_state(VerifyState)
        verify._take_over(sent, purpose, user_id=user_id, bound_to=self._session_binding())
        self.panel = ""
        yield VerifyState.tick

    async def _act(self, action: Callable[[Services, int], T]) -> T | None:
        """Run one account action for the signed-in user; None once its failure is shown."""
        self._forget_backup_codes()
        self.error, self.message = "", ""
        return await attempt(self, lambda: self._for_user(action))

    async def _for_user(self, action: Callable[[Services, int], T]) -> T:
        user = await self._require_user()
        assert user.id is not None  # `_require_user` checked it
        return await asyncio.to_thread(action, get_services(), user.id)

    def _show(self, shown: Shown) -> None:
        """A failed action (`presenter`): its sentence; an ended session signs the page out."""
        if shown.signed_out:
            self.signed_in = False
        self.error, self.error_field = shown.error or shown.notice, shown.field


def signed_out_landing() -> str:
    """The login page, saying "You are signed out." (`#signed-out`)."""
    return f"{get_routes().login}?{SIGNED_OUT_PARAMETER}=1"


#: The query parameter that makes the login page confirm a sign-out.
SIGNED_OUT_PARAMETER = "signed_out"
