"""The closed sets of words the layers pass each other: a verification's status, what it is
for, and how its code travels. `StrEnum`s, so a value is also the string stored in the
database and sent over the API."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """Where one verification is (`models.Verification.status`)."""

    #: Recorded, the provider not yet answered: inert.
    SENDING = "sending"
    PENDING = "pending"
    VERIFIED = "verified"
    #: A newer send for the same number, purpose and user replaced it.
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    FAILED = "failed"
    #: A confirmation of the current factor that a phone change used up.
    USED = "used"


class Purpose(enum.StrEnum):
    """What a code is for: each flow's purpose (`flows/`), stored with its verification."""

    VERIFY = "verify"
    SIGNUP = "signup"
    LOGIN = "login"
    ENABLE_2FA = "enable-2fa"
    DISABLE_2FA = "disable-2fa"
    CHANGE_PHONE = "change-phone"
    CONFIRM_PHONE = "confirm-phone"
    BACKUP_CODES = "backup-codes"
    #: Finishing a sign-up from the account page; the verification's own purpose is SIGNUP.
    VERIFY_PHONE = "verify-phone"
    #: A forgotten password: a code to the account's verified phone, then a new password.
    RESET_PASSWORD = "reset-password"  # noqa: S105 - a purpose, not a password


class Channel(enum.StrEnum):
    """How a code reaches the phone."""

    SMS = "sms"
    VOICE = "voice"
