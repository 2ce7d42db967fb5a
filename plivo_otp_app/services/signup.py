"""Sign-up: an account with a password and a phone, verified by a code.

The number is stored with the account before its code is sent, so a sign-up
whose code could not be sent (or was never entered) is finished later from the
account page. A name already taken looks the same as a new one all the way
through: sign-up reveals nothing about who has an account.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import log, messages
from ..config import Settings
from ..enums import Purpose
from ..errors import ChallengeRequired, InvalidInput
from ..passwords import check_password, hash_password
from ..phone import check_channel, check_country, mask, normalise
from ..ratelimit import RateLimits
from ..usernames import check_username
from .users import Users, check_email
from .verification import Started, VerificationService


@dataclass(frozen=True)
class SignupResult:
    """A sign-up whose phone verification is under way.

    `user_id` is None when the name was taken: the flow looks the same, so
    sign-up reveals nothing about who has an account.
    """

    user_id: int | None
    #: None when the send was held for a challenge (`ChallengeRequired`): the account is saved,
    #: and its code goes out once the client solved one (`change_signup_phone`).
    started: Started | None


class SignupService:
    """Create an account, send its phone a code, and verify the phone with it."""

    def __init__(
        self, settings: Settings, verifications: VerificationService, limits: RateLimits, users: Users
    ) -> None:
        self._settings = settings
        self._verifications = verifications
        self._limits = limits
        self._users = users

    def signup(
        self,
        username: object,
        email: object,
        password: object,
        phone: object,
        country: object,
        channel: object,
        client_ip: str,
    ) -> SignupResult:
        """Create an account with an unverified phone and send it a code."""
        name = check_username(username)
        address = check_email(email)
        min_length = self._settings.accounts.password_min_length
        secret = check_password(password, min_length=min_length, username=name.canonical, email=address or "")
        e164, country, channel = self._number(phone, country, channel)
        self._limits.check_signup(client_ip)
        # The number is stored with the account, so a sign-up whose code could not be
        # sent can be verified later from the account page.
        user_id = self._users.create(name, address, hash_password(secret), e164)
        try:
            started = self._verifications.start(e164, country, channel, client_ip, Purpose.SIGNUP, user_id)
        except ChallengeRequired:
            log.event("signup", user_id=user_id, phone=mask(e164), taken=user_id is None, challenged=True)
            return SignupResult(user_id, None)
        log.event("signup", user_id=user_id, phone=started.masked, taken=user_id is None)
        return SignupResult(user_id, started)

    def finish_signup(
        self, user_id: int | None, verification_id: object, code: object, client_ip: str
    ) -> bool:
        """Check the sign-up code; True when an account now has a verified phone."""
        checked = self._verifications.check(verification_id, code, client_ip, Purpose.SIGNUP, user_id)
        if user_id is None:
            return False
        self._users.update(user_id, phone_number=checked.e164, is_phone_verified=True)
        return True

    def change_signup_phone(
        self,
        user_id: int | None,
        phone: object,
        country: object,
        channel: object,
        client_ip: str,
        challenge: object = None,
    ) -> Started:
        """Send the sign-up's code to another number (the first was mistyped).

        `user_id` is the account this sign-up created (None when its name was taken,
        so the flow looks the same); only a still unverified phone can be replaced.
        """
        e164, country, channel = self._number(phone, country, channel)
        if user_id is not None and self._users.get(user_id).is_phone_verified:
            raise InvalidInput(messages.PHONE_ALREADY_VERIFIED)
        started = self._verifications.start(
            e164, country, channel, client_ip, Purpose.SIGNUP, user_id, challenge
        )
        if user_id is not None:
            self._users.update(user_id, phone_number=e164)
        log.event("signup_phone_changed", user_id=user_id, phone=started.masked)
        return started

    def start_phone_verification(self, user_id: int, channel: object, client_ip: str) -> Started:
        """Send a code to an account's still unverified phone (finishing a sign-up later)."""
        user = self._users.get(user_id)
        if not user.phone_number:
            raise InvalidInput(messages.PHONE_MISSING, field="phone")
        if user.is_phone_verified:
            raise InvalidInput(messages.PHONE_ALREADY_VERIFIED)
        return self._verifications.start_to_account(user, channel, client_ip, Purpose.SIGNUP)

    def _number(self, phone: object, country: object, channel: object) -> tuple[str, str, str]:
        """The typed number in E.164, with its checked country and channel."""
        channel = check_channel(channel)
        country = check_country(country, self._settings.otp.allowed_countries)
        return normalise(phone, country, channel, self._settings.otp.allowed_countries).e164, country, channel
