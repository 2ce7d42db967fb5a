"""Typed errors raised by the services, and the one place that puts them in words.

Services raise these; the UI shows `user_message(err)` and the JSON API answers
with `http_status(err)`. Nothing else decides what a user is told.
"""

from __future__ import annotations

import math

from sqlalchemy.exc import SQLAlchemyError

from .environ import ConfigError

#: What the pages say when a step worked, by what was done.
DONE = {
    "login": "Signed in.",
    "backup-code": "Signed in with a backup code.",
    "signup": "Phone number verified. Your account is ready.",
    "verify-phone": "Your phone number is verified.",
    "enable-2fa": "Two-factor login is on.",
    "disable-2fa": "Two-factor login is off.",
    "change-phone": "Your phone number was changed. Not you everywhere? Sign out your other sessions below.",
    "backup-codes": "Save these codes now. Each works once; they will not be shown again.",
    "confirm-phone": "Confirmed. Now enter your new phone number.",
    "device-forgotten": "The device will be asked for a code again.",
}
#: A sign-up whose phone is verified, but whose name or email was taken meanwhile or before.
NAME_TAKEN = "This username or email is already taken. Choose another, or log in if the account is yours."

#: The one sentence for "something on our side is down", on every page and in the API.
OUTAGE = "The service is temporarily unavailable. Please try again in a minute."


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
        return wait_message(self.scope, self.retry_after)


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
    """The verification used up its wrong-code attempts and is dead.

    `retry_after` is how long until a new code can be sent to the number (the
    burnt code's provider session must expire first); 0 when not known.
    """

    def __init__(self, reason: str = "attempts used up", retry_after: float = 0) -> None:
        super().__init__(reason)
        self.retry_after = max(0, math.ceil(retry_after))

    code = "too_many_attempts"

    def user_message(self) -> str:
        return wait_message("verification-locked", self.retry_after)


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


#: The account page, when the session it was opened with has ended.
SESSION_ENDED = "Your session has ended. Please sign in again."


class NotSignedIn(OtpError):
    """The session is missing, expired or revoked."""

    status = 401
    code = "not_signed_in"

    def user_message(self) -> str:
        return "Please sign in again."


class BrowserUnknown(OtpError):
    """The socket handshake carried no browser cookie, so a sign-in could not be bound to this browser."""

    status = 400
    code = "browser_unknown"

    def user_message(self) -> str:
        return "This browser was not recognised. Allow cookies for this site, reload the page and try again."


class NotThisBrowser(OtpError):
    """A flow's step came from another browser or session than the one that started it.

    A Reflex tab token (sessionStorage, the socket URL) gives its holder the tab's
    server state, so a sign-up or login step must come from the browser holding the
    HttpOnly cookie it started with, and an account change from the same live session.
    """

    status = 403
    code = "not_this_browser"

    def user_message(self) -> str:
        return "This step was started in another browser or session. Please start again."


class VerificationExpired(OtpError):
    """The verification expired, was already used, or is unknown."""

    code = "expired"

    def user_message(self) -> str:
        return "This code has expired. Send a new code to continue."


class LoginExpired(VerificationExpired):
    """The login waiting for its second factor is gone (timed out, finished, or unknown)."""

    def user_message(self) -> str:
        return "Your login timed out. Please enter your password again."


class BackupCodeStartOver(LoginExpired):
    """A wrong backup code while the account's SMS factor is locked: the flow ends.

    Each further guess then costs a password step, which has its own per-account and
    per-address limits; a right backup code is never refused for the lock.
    """

    code = "backup_code_incorrect"

    def user_message(self) -> str:
        return "That backup code is not valid or was already used. Please enter your password again."


class FactorNotConfirmed(OtpError):
    """A change that replaces a factor, asked for without the current factor first."""

    status = 403
    code = "factor_required"

    def user_message(self) -> str:
        return "First confirm with a code sent to your current phone, or a backup code."


class ServiceUnavailable(OtpError):
    """A service we depend on (rate-limit store, database) is unreachable."""

    status = 503
    code = "unavailable"

    def user_message(self) -> str:
        return OUTAGE


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


def code_on_its_way(channel: str, length: int, masked_phone: str) -> str:
    """The code step's first line: how the code comes, and to which number."""
    how = "calling" if channel == "voice" else "texting"
    return f"We are {how} a {length}-digit code to {masked_phone}."


def signed_out_others(count: int) -> str:
    """After "Sign out other sessions"."""
    return f"Signed out {count} other session{'s' if count != 1 else ''}."


def send_failed_at_login(error: OtpError) -> str:
    """The login's code step when its code could not be sent: that it was not, the cause
    (with the wait), and the way on."""
    return f"We could not send you a code. {error.user_message()} You can use a backup code."


def user_message(error: OtpError) -> str:
    """The words a user sees for `error`."""
    return error.user_message()


#: Limits by kind: what was counted, and the sentence with and without a wait left.
_WAITS = {
    "send": (
        "Too many codes sent. You can request a new code in {wait}.",
        "You can request a new code now.",
    ),
    "verification-locked": (
        "Too many wrong codes. You can request a new code in {wait}.",
        "Too many wrong codes. You can request a new code now.",
    ),
    "resend-cooldown": ("Please wait {wait} before requesting another code.", ""),
    "verify": ("Too many codes checked. Please wait {wait} and try again.", "You can try again now."),
    "login": ("Too many sign-in attempts. Please wait {wait} and try again.", "You can try again now."),
}
_KINDS = {
    "send-ip": "send",
    "send-number": "send",
    "send-prefix": "send",
    "send-account": "send",
    "verify-ip": "verify",
    "login-ip": "login",
    "login-account": "login",
}


def wait_message(scope: str, seconds: float) -> str:
    """The sentence for a limit of `scope` with `seconds` left (live countdowns call it each second)."""
    waiting, done = _WAITS.get(_KINDS.get(scope, scope), _WAITS["verify"])
    left = max(0, math.ceil(seconds))
    return waiting.format(wait=duration(left)) if left > 0 else done


#: After a restart of the server, a flow in progress is gone: what to do next, by flow.
_INTERRUPTED = "Your session was interrupted (the server restarted)."
_NEXT_AFTER_RESTART = {
    "login": "Please enter your password again.",
    "signup": "If your account was created, log in to finish verifying your phone; if not, sign up again.",
}


def interrupted_message(purpose: str) -> str:
    """What a page says when the flow this tab had in progress is gone from the server."""
    return f"{_INTERRUPTED} {_NEXT_AFTER_RESTART.get(purpose, 'Please request a new code.')}"


def duration(seconds: int) -> str:
    """`4 min 29 s`, `45 s`, `1 h 5 min`: exact enough to wait for, short enough for a button."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
