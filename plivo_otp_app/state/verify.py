"""The one OTP flow's state, used by every page that sends a code.

On `/` it verifies any number; sign-up, login and the account page hand it a
verification they started (`_take_over`). What a verification is *for* (how it
resends, how it finishes, what it must be bound to) is its purpose's flow
(`plivo_otp_app.flows`): this state checks the step and dispatches. Every public
handler can be called from the browser with any arguments, so each checks its
inputs; what a verification is for, whose it is and its handles live only in
backend-only vars.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from .. import flows
from ..config import get_settings
from ..enums import Channel
from ..errors import CodeRejected, InvalidInput, NotSignedIn, NotThisBrowser
from ..flows import Binding, Finish, Finished, Flow, Send, Step
from ..messages import (
    RESEND_READY,
    SMS_UNDELIVERED_CALLING,
    SMS_UNDELIVERED_OFFER,
    code_on_its_way,
    countries_found,
    duration,
    interrupted_message,
    say,
    wait_message,
)
from ..phone import (
    MAX_INPUT_LENGTH,
    as_you_type,
    check_country,
    country_name,
    country_options,
    dialing_code,
    flag,
    international,
    region_from_languages,
    region_of_typed,
    search_countries,
    typed_digits,
)
from ..services import Started, code_digits, get_delivery_service, get_services, get_verification_service
from ..tokens import tokens_equal
from ..translations import current_language
from .auth import AuthState
from .presenter import Shown, attempt

#: The longest answer `challenge_solved` takes (an ALTCHA answer is under 1 KB).
MAX_CHALLENGE_ANSWER = 2048
#: Challenges in a row for one send before the page gives up and says so.
MAX_CHALLENGE_ROUNDS = 3

#: When this server process started: a flow older than that was cut by a restart.
_PROCESS_STARTED = time.time()


class VerifyState(AuthState):
    """Phone, code, loading and verified flags, like the React original."""

    phone: str = ""
    #: The country picker's region: the browser's (`Accept-Language`) or the settings' default
    #: once a page loads (`reset_flow`); then the one picked, searched or typed (`+44`).
    country: str = ""
    #: What the country search holds ("spain", "+34", "ES"); the picker lists its matches.
    country_query: str = ""
    #: The language the picker's country names are in (the tab's, set on load and by the switch).
    country_language: str = ""
    #: The search's result, read out politely (`#country-search-status`).
    country_status: str = ""
    #: The number in full (`+44 20 7946 0958`) on the code step of a number typed in this tab.
    entered_phone: str = ""
    #: The code step's "remember this device" box, for a code that submits itself.
    remember_device: bool = False
    channel: str = "sms"
    code_sent: bool = False
    #: Codes sent in this flow (a resend adds one): the code field is remade, and focused, for each.
    codes_sent: int = 0
    loading: bool = False
    verified: bool = False
    masked_phone: str = ""
    message: str = ""
    error: str = ""
    #: The field `error` is about ("phone", "code"; `OtpError.field`), marked invalid on the page.
    error_field: str = ""
    resend_in: int = 0
    #: `error` is a limit's wait counted down each second: the page shows it without a live
    #: role, so a screen reader is not told every second (`announcement` says it once).
    error_counted: bool = False
    #: What the page's polite live region says once: a counted wait's first sentence, and the
    #: end of a countdown (the wait's "now" sentence, or that the code can be resent).
    announcement: str = ""
    flow: str = "verify"
    backup_mode: bool = False
    #: Whether this flow's code step offers "Use a backup code".
    backup_allowed: bool = False
    #: The settings' code length, once a page loads or a code is sent.
    code_length: int = 0
    #: The code can take no more tries (expired, or too many wrong ones): only a new code helps.
    code_dead: bool = False
    #: Why the flow started over (a restart of the server lost it, a login timed out), with the next step.
    notice: str = ""
    #: The provider reported this code's text undelivered: `#call-instead` offers a call (`OTP_FALLBACK`).
    call_offered: bool = False
    #: Nothing more to learn about this code's delivery (the fallback was offered and taken, or made).
    delivery_settled: bool = False
    #: Which page's flow this tab has in progress, kept by the browser (per tab) across a
    #: restart of the server, which forgets it: the two disagreeing is how a restart shows.
    flow_in_progress: str = rx.SessionStorage("", name="otp_flow_in_progress")
    #: The challenge (JSON) a held send waits for: the page's widget solves it by itself.
    challenge: str = ""

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
    #: The phone field's digits when last seen: formatting follows typing at the end only.
    _typed: str = ""
    #: A code the provider refused: the same code again (Enter after the auto-submit) is not re-sent.
    _refused_code: str = ""
    #: What a solved challenge goes on with: "send" (the phone form), "sms" or "voice" (a resend).
    _challenge_then: str = ""
    #: The solved challenge's answer, presented with that send once.
    _answer: str = ""
    #: The send was held for a challenge (`_show`), and how many times in a row.
    _challenge_wanted: bool = False
    _challenge_rounds: int = 0

    @rx.var
    def resend_wait(self) -> str:
        """The resend countdown in words ("4 min 29 s")."""
        return duration(self.resend_in)

    @rx.var
    def country_choices(self) -> list[tuple[str, str]]:
        """The picker's options (code, "Name (+cc)"): the search's matches, else every country."""
        allowed = get_settings().otp.allowed_countries
        options = country_options(allowed, self.country_language or None)
        matches = search_countries(self.country_query, allowed)
        if not matches:
            return options
        labels = dict(options)
        return [(code, labels[code]) for code in matches if code in labels]

    @rx.var
    def country_shown(self) -> str:
        """The closed picker: the flag and the dialing code ("🇬🇧 +44"), always visible."""
        return f"{flag(self.country)} {dialing_code(self.country)}".strip()

    @rx.event
    def pick_country(self, code: str) -> None:
        """The picker's choice."""
        try:
            self.country = check_country(code, get_settings().otp.allowed_countries)
        except InvalidInput:
            return

    @rx.event
    def search_country(self, query: str) -> None:
        """Filter the picker and choose the best match ("spain", "+34", "ES")."""
        self.country_query = query[:40] if isinstance(query, str) else ""
        matches = search_countries(self.country_query, get_settings().otp.allowed_countries)
        if matches:
            self.country = matches[0]
        found = countries_found(len(matches), country_name(self.country))
        self.country_status = found if self.country_query else ""

    @rx.event
    def search_key(self, key: str) -> Any:
        """Enter in the search goes on to the number (the search is in no form: it submits nothing)."""
        if key == "Enter":
            return rx.set_focus("phone")
        return None

    @rx.event
    def phone_typed(self, text: str) -> None:
        """The number as typed (after a pause): `+44` or `0044` switches the picker to its
        country, and the number is formatted as the picker's country writes it.

        Only typing at the end is formatted (the digits before are the ones seen last time),
        or a number put in place of the last (pasted, or typed into a cleared field): a delete
        or an edit in the middle is left as the person made it, caret and all.
        """
        if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
            return
        region = region_of_typed(text, get_settings().otp.allowed_countries)
        if region is not None:
            self.country = region
        digits, before = typed_digits(text), self._typed
        self._typed = digits
        appended = len(digits) > len(before) and digits.startswith(before)
        new, old = digits.lstrip("+"), before.lstrip("+")
        replaced = bool(new and old) and new[0] != old[0]
        at_end = text.rstrip()[-1:].isdigit()
        self.phone = as_you_type(text, self.country) if (appended or replaced) and at_end else text

    @rx.event
    def set_remember_device(self, checked: bool) -> None:
        """The "remember this device" box, read by a code that submits itself."""
        self.remember_device = checked is True

    @rx.event
    async def code_typed(self, text: str) -> AsyncIterator[Any]:
        """The code field changed: once it holds a whole code (typed, pasted, autofilled;
        spaces and dashes allowed), it is checked as if "Verify" had been pressed."""
        digits = code_digits(text, self.code_length)
        if digits is None or digits == self._refused_code:
            return
        async for update in self._verify(digits, self.remember_device):
            yield update

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
        otp = settings.otp
        self.country = region_from_languages(
            self.router.headers.accept_language, otp.allowed_countries, otp.default_country
        )
        self.country_query = self.country_status = ""
        self.country_language = current_language()
        if lost in flows.pages():
            self.notice = interrupted_message(lost)

    @rx.event
    def rename_countries(self) -> None:
        """After the language switch: the picker's country names in the new language."""
        self.country_language = current_language()

    @rx.event
    def change_number(self) -> Any:
        """Go back to the phone form, keeping what was typed (`#edit-phone`, `#change-number`),
        with the focus in the number.

        A flow bound to nothing has nothing but the number: it starts over. Another (a
        sign-up) keeps its flow, and its account, and forgets the verification.
        """
        flow = self._flow()
        if flow.send is None:
            return None
        self._typed = typed_digits(self.phone)
        if flow.binding is Binding.NONE:
            self._clear(keep_phone=True)
        elif self.flow == flow.purpose and self.code_sent and not self.verified:
            self.code_sent = False
            self.code_dead = False
            self.error = self.message = ""
            self._verification_id = ""
            self._resend_at = 0.0
            self.resend_in = 0
            self.entered_phone = ""
        return rx.set_focus("phone")

    @rx.event
    def toggle_backup_mode(self) -> None:
        """Switch a code step between the SMS code and a backup code (login, and account
        changes that ask for the current factor)."""
        if self._flow().takes_backup_codes and self.code_sent and not self.verified:
            self.backup_mode = not self.backup_mode
            self.error = ""

    @rx.event
    async def send_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Start a verification for the number in the phone form (`/`, or a sign-up's new number)."""
        if self.loading or self.code_sent or not isinstance(form_data, dict):
            return
        flow = self._flow()
        send = flow.send
        if send is None or self.flow != flow.purpose:
            return
        phone, country, channel = (form_data.get(k) for k in ("phone", "country", "channel"))
        if isinstance(phone, str):
            self.phone = phone[: MAX_INPUT_LENGTH * 2]
        if isinstance(country, str) and len(country) == 2:
            self.country = country.upper()
        if channel in ("sms", "voice"):
            self.channel = str(channel)
        self._challenge_rounds = 0
        async for update in self._send_form(flow, send, phone, country, channel):
            yield update

    async def _send_form(
        self, flow: Flow, send: Send, phone: object, country: object, channel: object
    ) -> AsyncIterator[Any]:
        self._challenge_then = "send"
        self._begin()
        yield
        started = await attempt(self, lambda: self._send(flow, send, phone, country, channel))
        if started is not None:
            self._hand_over(started, self._purpose, self._user_id, bound_to=self._bound_to)
        await self._ask_challenge()
        yield VerifyState.tick

    @rx.event
    async def challenge_solved(self, answer: str) -> AsyncIterator[Any]:
        """The page's widget solved the challenge a send waits for: the send goes on with the answer."""
        if not isinstance(answer, str) or not 0 < len(answer) <= MAX_CHALLENGE_ANSWER or not self.challenge:
            return
        then, self.challenge, self._answer = self._challenge_then, "", answer
        flow = self._flow()
        if then == "send" and flow.send is not None and not self.code_sent and not self.loading:
            async for update in self._send_form(flow, flow.send, self.phone, self.country, self.channel):
                yield update
        elif then in (Channel.SMS, Channel.VOICE) and self.code_sent and not self.verified:
            async for update in self._resend(then, again=True):
                yield update

    @rx.event
    async def verify_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Check the code in the OTP form and finish the flow's purpose."""
        if not isinstance(form_data, dict):
            return
        code = form_data.get("otp")
        if isinstance(code, str) and code_digits(code, self.code_length) == self._refused_code != "":
            return  # already answered: the code submitted itself and "Verify" came after
        remember = form_data.get("remember_device") in ("on", "true", True)
        async for update in self._verify(code, remember):
            yield update

    async def _verify(self, code: object, remember: bool) -> AsyncIterator[Any]:
        """Check `code` and finish the flow's purpose (`verify_code`, `code_typed`)."""
        busy_or_done = self.loading or self.verified or self.code_dead
        if busy_or_done or not self.code_sent:
            return
        flow = self._flow()
        self._begin()
        yield
        follow_up = await self._finish(flow, flow.finish, code, remember)
        if follow_up is not None:
            yield follow_up
        yield VerifyState.tick

    @rx.event
    async def verify_backup_code(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """Finish a login, or confirm an account change, with a backup code instead of the SMS code."""
        busy_or_done = self.loading or self.verified or not self.code_sent
        if busy_or_done or not isinstance(form_data, dict):
            return
        flow = self._flow()
        finish = flow.finish_with_backup_code
        if finish is None:
            return
        code = form_data.get("backup_code")
        remember = form_data.get("remember_device") in ("on", "true", True)
        self._begin()
        yield
        follow_up = await self._finish(flow, finish, code, remember)
        if follow_up is not None:
            yield follow_up
        yield VerifyState.tick

    @rx.event
    async def resend_code(self) -> AsyncIterator[Any]:
        """Send the same code again by text message."""
        async for update in self._resend(Channel.SMS):
            yield update

    @rx.event
    async def call_me(self) -> AsyncIterator[Any]:
        """Deliver the code by a voice call instead."""
        async for update in self._resend(Channel.VOICE):
            yield update

    @rx.event
    async def check_delivery(self) -> None:
        """The code step's poll (`#delivery-watch`): has the provider reported the text undelivered?
        Then a call is offered (`#call-instead`), or, with `OTP_FALLBACK=call`, is already on its way."""
        if self.loading or self.verified or not self.code_sent or self.delivery_settled:
            return
        verification_id = self._verification_id
        if not verification_id:
            return
        state = await asyncio.to_thread(get_delivery_service().fallback_state, verification_id)
        if state == "offer" and not self.call_offered:
            self.call_offered = True
            self.message = say(SMS_UNDELIVERED_OFFER)
        elif state == "called":
            self.call_offered = False
            self.delivery_settled = True
            self.channel = Channel.VOICE
            self.message = say(SMS_UNDELIVERED_CALLING)

    @rx.event
    async def call_instead(self) -> AsyncIterator[Any]:
        """`#call-instead`: the same code by a voice call, now (the text never came), once."""
        if self.loading or self.verified or not self.code_sent or not self.call_offered:
            return
        flow = self._flow()
        self._begin()
        yield
        started = await attempt(self, lambda: self._call_instead(flow))
        self.call_offered = False
        self.delivery_settled = True
        if started is not None:
            self.channel = Channel.VOICE
            self.code_dead = False
            self._on_sent(started)
        yield VerifyState.tick

    async def _call_instead(self, flow: Flow) -> Started | None:
        await self._check_bound(flow)
        return await asyncio.to_thread(get_delivery_service().call_instead, self._verification_id, self._ip())

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
        counting_resend = self.resend_in > 0
        self.resend_in = max(0, math.ceil(self._resend_at - now)) if live else 0
        waited = bool(self._wait_scope)
        if self._wait_scope:
            left = max(0, math.ceil(self._wait_until - now))
            self.error = wait_message(self._wait_scope, left)
            if left == 0:
                self._wait_scope = ""
                self.announcement = self.error
        if counting_resend and live and self.resend_in == 0 and not waited:
            self.announcement = say(RESEND_READY)
        return self.resend_in > 0 or bool(self._wait_scope)

    def _take_over(
        self,
        started: Started | None,
        purpose: str,
        user_id: int | None = None,
        pending_token: str = "",
        masked_phone: str = "",
        bound_to: str = "",
    ) -> None:
        """Start afresh on a verification another state started (sign-up, login, the account page)."""
        self._clear(keep_phone=False)
        self._hand_over(started, purpose, user_id, pending_token, masked_phone, bound_to)

    def _hand_over(
        self,
        started: Started | None,
        purpose: str,
        user_id: int | None = None,
        pending_token: str = "",
        masked_phone: str = "",
        bound_to: str = "",
    ) -> None:
        """Take over a started verification (or a login whose send failed) for `purpose`'s flow;
        `bound_to` is the hash of the cookie every later step must come with (`_check_bound`)."""
        flow = flows.get(purpose)
        self._purpose = purpose
        self.flow = purpose
        self._user_id = user_id
        self._pending_token = pending_token
        self._bound_to = bound_to
        self.code_sent = True
        self.verified = False
        self.code_dead = False
        self.call_offered = False
        self.delivery_settled = False
        self.backup_mode = False
        self.backup_allowed = flow.takes_backup_codes
        self.notice = ""
        self.masked_phone = masked_phone
        self.remember_device = False
        self._refused_code = ""
        self.flow_in_progress = flow.page
        self._flow_since = time.time()
        if started is not None:
            self._verification_id = started.verification_id
            # The number in full to the person who just typed it; masked where it is an account's.
            self.entered_phone = international(started.e164) if flow.send is not None else ""
            self._on_sent(started)

    def _flow(self) -> Flow:
        return flows.get(self._purpose)

    def _step(self, remember_device: bool = False) -> Step:
        """The flow's step for its purpose, on this module's services (tests put their own here)."""
        return Step(
            state=self,
            verification_id=self._verification_id,
            user_id=self._user_id,
            pending_token=self._pending_token,
            ip=self._ip(),
            remember_device=remember_device,
            services=get_services,
            verifications=get_verification_service,
            challenge=self._answer,
        )

    async def _send(self, flow: Flow, send: Send, phone: object, country: object, channel: object) -> Started:
        await self._check_bound(flow)
        return await send(self._step(), phone, country, channel)

    async def _finish(self, flow: Flow, finish: Finish, code: object, remember: bool) -> Any:
        """Check the code (or backup code) with the flow; returns its follow-up event, if any."""
        finished = await attempt(self, lambda: self._finished(flow, finish, code, remember))
        if finished is None:
            return None
        if finished.start_over:
            self._clear(keep_phone=True)  # a form sent back (a sign-up's taken name) keeps the number
        else:
            self.masked_phone = finished.masked_phone or self.masked_phone
            self._succeeded(finished.message)
        return finished.follow_up

    async def _finished(self, flow: Flow, finish: Finish, code: object, remember: bool) -> Finished:
        await self._check_bound(flow)
        try:
            return await finish(self._step(remember), code)
        except CodeRejected:
            self._refused_code = code_digits(code, self.code_length) or ""
            raise

    async def _check_bound(self, flow: Flow) -> None:
        """Refuse a step that does not come from the browser or session that started the flow.

        Account flows: the live session of the flow's user, and the very session (its token's
        hash) that started it. Sign-up and login: the connection's `otp_browser` cookie. A
        public verification (`/`) is bound to nothing.

        Raises:
            NotSignedIn: An account flow's session has ended.
            NotThisBrowser: Another browser, or another session, than the flow's.
        """
        if flow.binding is Binding.SESSION:
            user = await self._require_user()
            if user.id != self._user_id:
                raise NotSignedIn("session user is not the verification's user")
            current = self._session_binding()
        elif flow.binding is Binding.BROWSER:
            current = self._browser_binding()
        else:
            return
        if not self._bound_to or not current or not tokens_equal(current, self._bound_to):
            raise NotThisBrowser(f"{self._purpose} step from another browser or session")

    def _succeeded(self, message: str) -> None:
        self.verified = True
        self.message = say(message)  # a flow's `Finished` words it in English (`messages.DONE`)
        self.flow_in_progress = ""
        self._verification_id = ""
        self._pending_token = ""
        self._bound_to = ""

    async def _resend(self, channel: str, again: bool = False) -> AsyncIterator[Any]:
        if self.loading or self.verified or not self.code_sent:
            return
        flow = self._flow()
        self._challenge_then = channel
        self._challenge_rounds = self._challenge_rounds if again else 0
        self._begin()
        yield
        started = await attempt(self, lambda: self._send_again(flow, channel))
        if started is not None:
            self.channel = channel
            self.code_dead = False
            if channel == Channel.VOICE:  # a call asked for by hand is the fallback too
                self.call_offered = False
                self.delivery_settled = True
            self._verification_id = started.verification_id
            self._on_sent(started)
        await self._ask_challenge()
        yield VerifyState.tick

    async def _challenge_first(self, country: object, channel: object) -> None:
        """A flow taken over whose first send was held for a challenge (a sign-up): its phone
        form, filled in, waits for the page to solve one, then sends (`challenge_solved`)."""
        self.code_sent = False
        if isinstance(country, str) and len(country) == 2:
            self.country = country.upper()
        if channel in (Channel.SMS, Channel.VOICE):
            self.channel = str(channel)
        self._challenge_then, self._challenge_wanted, self._challenge_rounds = "send", True, 0
        await self._ask_challenge()

    async def _ask_challenge(self) -> None:
        """After a send held for a challenge (`_show`): a fresh challenge for the page's widget
        to solve, up to `MAX_CHALLENGE_ROUNDS` in a row (then the held send's sentence stays)."""
        self._answer = ""
        if not self._challenge_wanted:
            self._challenge_rounds = 0
            return
        self._challenge_wanted = False
        if self._challenge_rounds >= MAX_CHALLENGE_ROUNDS:
            return
        self._challenge_rounds += 1
        issued = await attempt(self, lambda: asyncio.to_thread(get_verification_service().issue_challenge))
        if issued is not None:
            self.challenge = json.dumps(issued["challenge"])
            self.error = self.error_field = ""

    async def _send_again(self, flow: Flow, channel: str) -> Started:
        await self._check_bound(flow)
        return await flow.resend(self._step(), channel)

    def _on_sent(self, started: Started) -> None:
        self.codes_sent += 1
        self.code_length = get_settings().otp.code_length
        self.masked_phone = self.masked_phone or started.masked
        self._refused_code = ""
        shown = self.entered_phone or self.masked_phone
        self.message = code_on_its_way(started.channel, self.code_length, shown)
        self._set_resend_after(started.resend_after)

    def _set_resend_after(self, seconds: float) -> None:
        self._resend_at = time.time() + seconds
        self.resend_in = math.ceil(seconds)

    def _begin(self) -> None:
        self.loading = True
        self.error = ""
        self.error_counted = False
        self.announcement = ""
        self.message = ""
        self.notice = ""
        self._wait_scope = ""

    def _show(self, shown: Shown) -> None:
        """A failed step (`presenter`): a code that can take no more tries disables "Verify" and
        offers a new code after the wait there is; a limit's wait counts down live (`tick`); a
        flow that is over starts again, saying why."""
        if shown.flow_over:
            self._clear(keep_phone=False)
        if self.code_sent:
            self.code_dead = self.code_dead or shown.code_dead
            if shown.resend_after is not None:
                self._set_resend_after(shown.resend_after)
        self._wait(shown.wait_scope, shown.wait_seconds)
        self.error, self.error_field = shown.error, shown.field
        self.error_counted = bool(self._wait_scope)
        self.announcement = self.error if self.error_counted else ""
        if shown.notice:
            self.notice = shown.notice
        self._challenge_wanted = shown.challenge

    def _wait(self, scope: str, seconds: float) -> None:
        """Keep `self.error` counting down to the end of a limit's wait."""
        if seconds > 0 and scope and scope != "resend-cooldown":
            self._wait_scope = scope
            self._wait_until = time.time() + seconds

    def _clear(self, keep_phone: bool) -> None:
        if not keep_phone:
            self.phone = ""
        self.code_sent = False
        self.verified = False
        self.code_dead = False
        self.call_offered = False
        self.delivery_settled = False
        self.loading = False
        self.backup_mode = False
        self.backup_allowed = False
        self.notice = ""
        self.flow_in_progress = ""
        self.flow = "verify"
        self.masked_phone = ""
        self.entered_phone = ""
        self.remember_device = False
        self._refused_code = ""
        self.message = ""
        self.error = ""
        self.error_counted = False
        self.announcement = ""
        self.resend_in = 0
        self._verification_id = ""
        self._purpose = "verify"
        self._user_id = None
        self._pending_token = ""
        self._bound_to = ""
        self._resend_at = 0.0
        self._wait_scope = ""
        self._wait_until = 0.0
        self.challenge = ""
        self._challenge_then = self._answer = ""
        self._challenge_wanted = False
        self._challenge_rounds = 0
