"""The provider interface: what the services need from an OTP delivery service."""

from __future__ import annotations

import enum
from typing import Protocol


class Outcome(enum.Enum):
    """What the provider said about one code."""

    VALID = "valid"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"


class VerifyProvider(Protocol):
    """Send a code, check it, and ask a session's status.

    Implementations are blocking; the services call them off the event loop.
    Failures raise `ProviderUnavailable` or `ProviderRejected`.
    """

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        """Deliver a code to `recipient` (E.164) and return the provider's session id.

        `app_uuid` names another Verify application than the configured one: its
        sessions, and so its codes, are apart from the default application's. `locale` is
        the language of the message (one of Plivo's locales, e.g. `es`); None: the configured one.
        """
        ...

    def validate(self, session_id: str, code: str) -> Outcome:
        """Check `code` against the session."""
        ...

    def status(self, session_id: str) -> str:
        """The session's status: "in-progress", "verified" or "expired"."""
        ...

    def notify(self, source: str, recipient: str, text: str) -> None:
        """Send a plain text message (security notices; never a code)."""
        ...
