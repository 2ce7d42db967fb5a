"""Typed errors raised by the services, and which words of `messages.py` each one is told in.

Services raise these; the UI shows `user_message(err)` and the JSON API answers
with the error's `status` and `code` (`jsonhttp.otp_error`). Nothing else decides
what a user is told about a failure; the sentences themselves are in `messages.py`.
"""

from __future__ import annotations

import math

from sqlalchemy.exc import SQLAlchemyError

from . import messages
from .environ import ConfigError


class OtpError(Exception):
    """Base class of every failure a user can be told about."""

    status = 400
    #: The stable machine name of the failure class in the JSON API's error bodies.
    code = "internal"
    #: The form field the failure is about ("phone", "code", "username", "email", "password"),
    #: which the page marks invalid and describes with the error; "" for none.
    field = ""

    def user_message(self) -> str:
        """The sentence shown to the user."""
        return messages.say(messages.GENERIC)


class InvalidInput(OtpError):
    """A request field is missing or malformed (not a phone rule); `message` is one of `messages.py`'s."""

    code = "invalid_input"

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def user_message(self) -> str:
        return messages.say(self.message)


class InvalidPhone(OtpError):
    """The number cannot be parsed, is not a real number, or cannot get codes; `reason` is one of
    `messages.py`'s sentences."""

    code = "invalid_phone"
    field = "phone"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def user_message(self) -> str:
        return messages.say(self.reason)


class RateLimited(OtpError):
    """Too many requests for this number, address or verification."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float, scope: str = "") -> None:
        super().__init__(f"rate limited ({scope}), retry after {retry_after:.0f}s")
        self.retry_after = max(1, math.ceil(retry_after))
        self.scope = scope

    def user_message(self) -> str:
        return messages.wait_message(self.scope, self.retry_after)


class SendRefused(OtpError):
    """The pumping and cost policy (`pumping.py`) refused a send: a high-risk country, a group
    whose codes go unverified, or a spend budget used up.

    One status, code and sentence for every `reason`, so a refusal does not tell an attacker
    which rule to tune against; the reason goes to the log and the refusal counts.
    """

    status = 429
    code = "send_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"send refused ({reason})")
        self.reason = reason

    def user_message(self) -> str:
        return messages.say(messages.SEND_REFUSED)


class ChallengeRequired(OtpError):
    """The pumping policy wants a solved challenge before this send (`Action.CHALLENGE`).

    One code for every `reason` (the reason goes to the log and the count); the JSON API
    answers with a fresh challenge (`challenge/`) and the page solves it by itself.
    """

    status = 428
    code = "challenge_required"

    def __init__(self, reason: str) -> None:
        super().__init__(f"challenge required ({reason})")
        self.reason = reason

    def user_message(self) -> str:
        return messages.say(messages.CHALLENGE_REQUIRED)


class CodeRejected(OtpError):
    """The code was wrong; `attempts_left` more tries remain."""

    code = "code_incorrect"
    field = "code"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"code rejected, {attempts_left} attempts left")
        self.attempts_left = attempts_left

    def user_message(self) -> str:
        return messages.code_rejected(self.attempts_left)


class TooManyAttempts(OtpError):
    """The verification used up its wrong-code attempts and is dead.

    `retry_after` is how long until a new code can be sent to the number (the
    burnt code's provider session must expire first); 0 when not known.
    """

    def __init__(self, reason: str = "attempts used up", retry_after: float = 0) -> None:
        super().__init__(reason)
        self.retry_after = max(0, math.ceil(retry_after))

    code = "too_many_attempts"

    def user_message(self) -> str:
        return messages.wait_message("verification-locked", self.retry_after)


class NoAttemptsLeft(TooManyAttempts):
    """Refused before any code was checked: the verification had no attempt left.

    The user sees the same words; the account's failure counter does not count
    it, since no code was judged (parallel repeats of a right code end here).
    """


class InvalidCredentials(OtpError):
    """Wrong username or password; the same words whether or not the user exists."""

    status = 401
    code = "invalid_credentials"
    field = "password"

    def user_message(self) -> str:
        return messages.say(messages.INVALID_CREDENTIALS)


class NotSignedIn(OtpError):
    """The session is missing, expired or revoked."""

    status = 401
    code = "not_signed_in"

    def user_message(self) -> str:
        return messages.say(messages.SESSION_ENDED)


class NotAdmin(OtpError):
    """The signed-in user is not an operator (`/admin`, `services/admin.py`)."""

    status = 403
    code = "not_admin"

    def user_message(self) -> str:
        return messages.say(messages.NOT_ADMIN)


class BrowserUnknown(OtpError):
    """The socket handshake carried no browser cookie, so a sign-in could not be bound to this browser."""

    status = 400
    code = "browser_unknown"

    def user_message(self) -> str:
        return messages.say(messages.BROWSER_UNKNOWN)


class NotThisBrowser(OtpError):
    """A flow's step came from another browser or session than the one that started it.

    A Reflex tab token (sessionStorage, the socket URL) gives its holder the tab's
    server state, so a sign-up or login step must come from the browser holding the
    HttpOnly cookie it started with, and an account change from the same live session.
    """

    status = 403
    code = "not_this_browser"

    def user_message(self) -> str:
        return messages.say(messages.NOT_THIS_BROWSER)


class VerificationExpired(OtpError):
    """The verification expired, was already used, or is unknown."""

    code = "expired"

    def user_message(self) -> str:
        return messages.say(messages.CODE_EXPIRED)


class LoginExpired(VerificationExpired):
    """The login waiting for its second factor is gone (timed out, finished, or unknown)."""

    def user_message(self) -> str:
        return messages.say(messages.LOGIN_EXPIRED)


class ResetExpired(VerificationExpired):
    """A password reset with no verified code behind it (timed out, used, or never verified)."""

    def user_message(self) -> str:
        return messages.say(messages.RESET_EXPIRED)


class BackupCodeStartOver(LoginExpired):
    """A wrong backup code while the account's SMS factor is locked: the flow ends.

    Each further guess then costs a password step, which has its own per-account and
    per-address limits; a right backup code is never refused for the lock.
    """

    code = "backup_code_incorrect"

    def user_message(self) -> str:
        return messages.say(messages.BACKUP_CODE_START_OVER)


class FactorNotConfirmed(OtpError):
    """A change that replaces a factor, asked for without the current factor first."""

    status = 403
    code = "factor_required"

    def user_message(self) -> str:
        return messages.say(messages.FACTOR_NOT_CONFIRMED)


class ServiceUnavailable(OtpError):
    """A service we depend on (rate-limit store, database) is unreachable."""

    status = 503
    code = "unavailable"

    def user_message(self) -> str:
        return messages.say(messages.OUTAGE)


class ProviderUnavailable(ServiceUnavailable):
    """The SMS provider timed out, failed or is rate limiting us."""

    code = "provider_unavailable"

    def user_message(self) -> str:
        return messages.say(messages.PROVIDER_UNAVAILABLE)


class ProviderRejected(OtpError):
    """The provider refused the request (number not served, blocked country)."""

    code = "provider_rejected"

    def user_message(self) -> str:
        return messages.say(messages.PROVIDER_REJECTED)


def from_unexpected(exc: Exception) -> OtpError:
    """The typed error for a failure no service anticipated.

    A database that went away, or settings that cannot be loaded, become
    `ServiceUnavailable` (503, "try again"), so no request is ever silently treated
    as verified; anything else stays a generic error whose detail goes only to the
    server log.
    """
    if isinstance(exc, SQLAlchemyError):
        return ServiceUnavailable(f"database: {type(exc).__name__}")
    if isinstance(exc, ConfigError):
        return ServiceUnavailable("settings cannot be loaded")
    error = OtpError(type(exc).__name__)
    error.status = 500
    return error


def user_message(error: OtpError) -> str:
    """The words a user sees for `error`."""
    return error.user_message()
