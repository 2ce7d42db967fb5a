"""What a state shows when its work fails: one mapping from any exception, for every state.

`present(exc)` says what to show (`Shown`); each state applies the fields it has (`_show`).
`attempt(state, work)` awaits a handler's work, presents its failure, and leaves the state
not busy. An unexpected exception is logged once (`internal_error`, its traceback at debug
level) and shown as the generic sentence, or the outage sentence for a database or settings
failure: never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .. import log
from ..errors import (
    ChallengeRequired,
    LoginExpired,
    NotSignedIn,
    NotThisBrowser,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
    from_unexpected,
)
from ..messages import SESSION_ENDED, say

T = TypeVar("T")

#: The limits whose wait is also the wait before the next code (the resend countdown restarts).
_RESEND_SCOPES = ("resend-cooldown", "verification-locked")


@dataclass(frozen=True)
class Shown:
    """What a failure shows; a state applies what it has (a form has only `error`)."""

    #: The failed step's sentence, beside the form.
    error: str = ""
    #: Why the flow started over, with the next step (the page's `#notice`).
    notice: str = ""
    #: The code can take no more tries: only a new code helps.
    code_dead: bool = False
    #: Restart the resend countdown at this many seconds; None: leave it.
    resend_after: float | None = None
    #: A limit's wait, counted down live: its scope, and the seconds left.
    wait_scope: str = ""
    wait_seconds: float = 0.0
    #: The code flow is over: back to its first step.
    flow_over: bool = False
    #: The session has ended: the page is no longer signed in.
    signed_out: bool = False
    #: The form field `error` is about (`OtpError.field`): marked invalid and described by it.
    field: str = ""
    #: The send waits for a solved challenge: a page that can solve one does (`VerifyState`).
    challenge: bool = False


def present(exc: Exception) -> Shown:
    """What to show for `exc`; an unexpected one is logged here."""
    if isinstance(exc, RateLimited):
        resend_after = exc.retry_after if exc.scope in _RESEND_SCOPES else None
        return Shown(
            exc.user_message(), resend_after=resend_after, wait_scope=exc.scope, wait_seconds=exc.retry_after
        )
    if isinstance(exc, TooManyAttempts):
        return Shown(
            exc.user_message(),
            code_dead=True,
            resend_after=exc.retry_after,
            wait_scope="verification-locked",
            wait_seconds=exc.retry_after,
        )
    if isinstance(exc, LoginExpired | NotThisBrowser):
        return Shown(notice=exc.user_message(), flow_over=True)
    if isinstance(exc, NotSignedIn):
        return Shown(notice=say(SESSION_ENDED), flow_over=True, signed_out=True)
    if isinstance(exc, VerificationExpired):
        return Shown(exc.user_message(), code_dead=True, resend_after=0)
    if isinstance(exc, ChallengeRequired):
        return Shown(exc.user_message(), challenge=True)
    if isinstance(exc, OtpError):
        return Shown(exc.user_message(), field=exc.field)
    log.event("internal_error", logging.ERROR, error=type(exc).__name__)
    logging.getLogger(log.LOGGER_NAME).debug("internal error", exc_info=exc)
    return Shown(from_unexpected(exc).user_message())


class Presenting(Protocol):
    """A state that shows failures, with a busy flag."""

    loading: bool

    def _show(self, shown: Shown) -> None: ...


async def attempt(state: Presenting, work: Callable[[], Awaitable[T]]) -> T | None:
    """Await `work()`; None once its failure is shown on `state`. `state.loading` is False after.

    `work` is called inside, so a failure while building its arguments (the client's
    address, a service) is answered like any other.
    """
    try:
        return await work()
    except Exception as exc:  # noqa: BLE001 - every failure is presented; the unexpected ones logged
        state._show(present(exc))
        return None
    finally:
        state.loading = False
