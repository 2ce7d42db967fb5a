"""The account page: a code to a still unverified phone finishes the sign-up, in the session
that is signed in (no new session). The verification service knows it as a sign-up's."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..messages import DONE
from ..state.account import AccountState
from ._account import PAGE, user_id
from .base import Binding, Finished, Flow, Step, renew


async def _finish(step: Step, code: object) -> Finished:
    services = step.services()
    await asyncio.to_thread(
        services.signups.finish_signup, user_id(step), step.verification_id, code, step.ip
    )
    return Finished(DONE[Purpose.VERIFY_PHONE], follow_up=AccountState.load)


FLOW = Flow(
    Purpose.VERIFY_PHONE, page=PAGE, binding=Binding.SESSION, finish=_finish, resend=renew(Purpose.SIGNUP)
)
