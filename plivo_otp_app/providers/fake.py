"""An in-process provider with the sandbox's semantics and no HTTP, for tests.

For this app's tests and a host app's own: one code per live session, re-delivered
on a resend; codes expire, work once, and a wrong one is told apart; plain messages
land in the same outbox. The sandbox's fault numbers (`sandbox/faults.py`) fail
here too, as the Plivo wrapper reports them: a refusal as `ProviderRejected`, a
rate limit, a server error or a hang (without the wait) as `ProviderUnavailable`.
Read what a number was sent with `code_for` and `messages`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .. import log
from ..errors import ProviderRejected, ProviderUnavailable
from ..phone import mask
from ..sandbox.faults import fault_for
from ..sandbox.store import Message, SandboxError, SandboxStore
from .base import Outcome

if TYPE_CHECKING:
    from ..config import Settings

#: Fault statuses that are a refusal of the request (Plivo's 400 and 403), not an outage.
_REFUSALS = (400, 403)


class FakeProvider:
    """`VerifyProvider` on a `SandboxStore` in this process."""

    def __init__(
        self,
        store: SandboxStore | None = None,
        code_length: int | None = None,
        app_uuid: str | None = None,
        brand_name: str | None = None,
        locale: str | None = None,
    ) -> None:
        self.store = store or SandboxStore()
        self._create_options = {
            "code_length": code_length,
            "brand_name": brand_name,
            "locale": locale,
        }
        self._app_uuid = app_uuid

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        """Start (or re-deliver) the number's session in application `app_uuid` (else the default),
        in `locale` (else the configured one)."""
        digits = recipient.lstrip("+")
        fault = fault_for(digits)
        if fault is not None and (fault.status or fault.hang):  # an undelivered text is sent, unseen
            failure = "timeout" if not fault.status else str(fault.status)
            log.event("provider_error", logging.WARNING, op="create", phone=mask(recipient), error=failure)
            if fault.status in _REFUSALS:
                raise ProviderRejected(fault.error)
            raise ProviderUnavailable(fault.error or "timeout")
        if channel not in ("sms", "voice"):
            raise ProviderRejected("channel must be sms or voice")
        try:
            session = self.store.create(
                recipient=digits,
                channel=channel,
                app_uuid=app_uuid or self._app_uuid,
                **{**self._create_options, "locale": locale or self._create_options["locale"]},
            )
        except SandboxError as exc:
            raise ProviderRejected(exc.message) from exc
        return session.session_uuid

    def validate(self, session_id: str, code: str) -> Outcome:
        """Check a code; a refusal is told apart by the session's status, as Plivo's is."""
        try:
            self.store.validate(session_id, code)
        except SandboxError as exc:
            if exc.status == 404:
                return Outcome.EXPIRED
            status = self.store.get(session_id).status
            return {"verified": Outcome.USED, "expired": Outcome.EXPIRED}.get(status, Outcome.WRONG)
        return Outcome.VALID

    def status(self, session_id: str) -> str:
        """The session's status: "in-progress", "verified" or "expired"."""
        try:
            return self.store.get(session_id).status
        except SandboxError as exc:
            raise ProviderUnavailable(exc.message) from exc

    def notify(self, source: str, recipient: str, text: str) -> None:
        """Put a plain message in the outbox."""
        if not text:
            raise ProviderRejected("text is required")
        self.store.deliver(recipient, text)

    def code_for(self, recipient: str) -> str:
        """The newest code sent to `recipient` (E.164); raises `LookupError` if none was."""
        for message in self.messages(recipient):
            if message.code:
                return message.code
        raise LookupError(f"no code was sent to {mask(recipient)}")

    def messages(self, recipient: str | None = None) -> list[Message]:
        """What was delivered, newest first, optionally to one number (E.164)."""
        return self.store.messages(None if recipient is None else "+" + recipient.lstrip("+"))

    def expire(self, recipient: str) -> int:
        """Expire the number's live sessions now; returns how many."""
        return self.store.expire(recipient.lstrip("+"))


def fake_provider(settings: Settings) -> FakeProvider:
    """A fake sized from the settings (code length, expiry), in the configured Verify application."""
    otp, plivo = settings.otp, settings.provider.plivo
    store = SandboxStore(expiry_seconds=otp.expiry_seconds, default_code_length=otp.code_length)
    return FakeProvider(store, app_uuid=plivo.app_uuid, brand_name=plivo.brand_name, locale=plivo.locale)
