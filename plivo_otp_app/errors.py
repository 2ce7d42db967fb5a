"""Typed errors raised by the services, and the one place that puts them in words.

Services raise these; the UI shows `user_message(err)` and the JSON API answers
with `http_status(err)`. Nothing else decides what a user is told.
"""

from __future__ import annotations

import math

from sqlalchemy.exc import SQLAlchemyError


class OtpError(Exception):
    """Base class of every failure a user can be told about."""

    status = 400
    #: The stable machine name of the failure class in the JSON API's error bodies.
    code = "internal"

    def user_message(self) -> str:
        """The sentence shown to the user."""
        return "Something went wrong. Please try again."


class InvalidInput(OtpError):
    """A request field is missing or malformed (not a phone rule)."""

    code = "invalid_input"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def user_message(self) -> str:
        return self.message


class InvalidPhone(OtpError):
    """The number cannot be parsed, is not a real number, or cannot get codes."""

    code = "invalid_phone"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def user_message(self) -> str:
        return self.reason


class RateLimited(OtpError):
    """Too many requests for this number, address or verification."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float, scope: str = "") -> None:
        super().__init__(f"rate limited ({scope}), retry after {retry_after:.0f}s")
        self.retry_after = max(1, math.ceil(retry_after))
        self.scope = scope

    def user_message(self) -> str:
        return f"Too many attempts. Please wait {_duration(self.retry_after)} and try again."


class CodeRejected(OtpError):
    """The code was wrong; `attempts_left` more tries remain."""

    code = "code_incorrect"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"code rejected, {attempts_left} attempts left")
        self.attempts_left = attempts_left

    def user_message(self) -> str:
        plural = "attempt" if self.attempts_left == 1 else "attempts"
        return f"That code is not correct. {self.attempts_left} {plural} left."


class TooManyAttempts(OtpError):
    """The verification used up its wrong-code attempts and is dead."""

    code = "too_many_attempts"

    def user_message(self) -> str:
        return "Too many wrong codes. Wait a few minutes, then request a new code."


class NoAttemptsLeft(TooManyAttempts):
    """Refused before any code was checked: the verification had no attempt left.

    The user sees the same words; the account's failure counter does not count
    it, since no code was judged (parallel repeats of a right code end here).
    """


class InvalidCredentials(OtpError):
    """Wrong username or password; the same words whether or not the user exists."""

    status = 401
    code = "invalid_credentials"

    def user_message(self) -> str:
        return "Incorrect username or password."


class NotSignedIn(OtpError):
    """The session is missing, expired or revoked."""

    status = 401
    code = "not_signed_in"

    def user_message(self) -> str:
        return "Please sign in again."


class VerificationExpired(OtpError):
    """The verification expired, was already used, or is unknown."""

    code = "expired"

    def user_message(self) -> str:
        return "This code has expired. Request a new code."


class ServiceUnavailable(OtpError):
    """A service we depend on (rate-limit store, database) is unreachable."""

    status = 503
    code = "unavailable"

    def user_message(self) -> str:
        return "The service is temporarily unavailable. Please try again in a minute."


class ProviderUnavailable(ServiceUnavailable):
    """The SMS provider timed out, failed or is rate limiting us."""

    code = "provider_unavailable"

    def user_message(self) -> str:
        return "We could not reach the SMS service. Please try again in a minute."


class ProviderRejected(OtpError):
    """The provider refused the request (number not served, blocked country)."""

    code = "provider_rejected"

    def user_message(self) -> str:
        return "We cannot send a code to this number. Please use another number."


def from_unexpected(exc: Exception) -> OtpError:
    """The typed error for a failure no service anticipated.

    A database that went away becomes `ServiceUnavailable` (503, "try again"),
    so no request is ever silently treated as verified; anything else stays a
    generic error whose detail goes only to the server log.
    """
    if isinstance(exc, SQLAlchemyError):
        return ServiceUnavailable(f"database: {type(exc).__name__}")
    error = OtpError(type(exc).__name__)
    error.status = 500
    return error


def user_message(error: OtpError) -> str:
    """The words a user sees for `error`."""
    return error.user_message()


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
