"""What a flow purpose is: what its steps must be bound to, how it sends its code again, and
how it finishes with the code (or a backup code).

`VerifyState` runs the code step of every flow and dispatches to the purpose's `Flow`
(`registry.get`); each purpose is one module beside this one.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..services import Services, Started, VerificationService

if TYPE_CHECKING:
    from ..state.auth import AuthState


class Binding(enum.Enum):
    """What every step of a flow must come with besides the tab token (a token alone hands out the tab)."""

    #: A public verification (`/`): nothing.
    NONE = "none"
    #: Sign-up and login: the pre-login `otp_browser` cookie that started the flow.
    BROWSER = "browser"
    #: The account page's flows: the very live session that started the flow, of the flow's user.
    SESSION = "session"


@dataclass(frozen=True)
class Step:
    """One step of a flow in progress, as `VerifyState` hands it to the flow, its binding checked."""

    #: The OTP flow's state: it signs in (`_sign_in`) and reaches the feature states (`get_state`).
    state: AuthState
    verification_id: str
    #: The flow's user (sign-up, account flows); for an account flow, the live session's.
    user_id: int | None
    #: A login's pending token (the password step passed).
    pending_token: str
    ip: str
    #: "Remember this device" was ticked (login).
    remember_device: bool
    services: Callable[[], Services]
    verifications: Callable[[], VerificationService]
    #: The answer to the challenge the last send was held for ("" for none), presented once.
    challenge: str = ""


@dataclass(frozen=True)
class Finished:
    """How a code step ended: verified with `message`, or over without it (`start_over`)."""

    #: What the page says once verified ("Signed in.").
    message: str = ""
    #: The number the code went to, as the page shows it, when the check tells it.
    masked_phone: str = ""
    #: The flow ends unverified, back at its first step (a sign-up whose name was taken meanwhile).
    start_over: bool = False
    #: An event to run next (the account page reloading), or None.
    follow_up: Any = None


#: Checks a code (or a backup code) for the flow's purpose.
Finish = Callable[[Step, object], Awaitable[Finished]]
#: Sends the flow's code again over a channel ("sms", "voice").
Resend = Callable[[Step, str], Awaitable[Started]]
#: Sends a code to the number of the code step's phone form: (step, phone, country, channel).
Send = Callable[[Step, object, object, object], Awaitable[Started]]


@dataclass(frozen=True)
class Flow:
    """One purpose's part of the code step; `VerifyState` supplies the rest."""

    #: The purpose (an `enums.Purpose` for the built-in flows).
    purpose: str
    #: The page whose flow it is (`verify`, `signup`, `login`, `account`): a restart says so there.
    page: str
    binding: Binding
    finish: Finish
    resend: Resend
    #: Finishes with a backup code in place of the SMS code; None: this flow takes none.
    finish_with_backup_code: Finish | None = None
    #: The code step's phone form sends (a new number); None: the flow has no phone form.
    send: Send | None = None

    @property
    def takes_backup_codes(self) -> bool:
        """Whether "Use a backup code" stands in for the SMS code."""
        return self.finish_with_backup_code is not None


def renew(purpose: str) -> Resend:
    """Send again by renewing the flow's verification, which the service knows under `purpose`."""

    async def resend(step: Step, channel: str) -> Started:
        service = step.verifications()
        return await asyncio.to_thread(
            service.renew, step.verification_id, channel, step.ip, purpose, step.user_id, step.challenge
        )

    return resend
