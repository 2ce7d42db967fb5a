"""The account page: a code to the verified phone turns two-factor login on."""

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
        services.account_changes.finish_enable_2fa, user_id(step), step.verification_id, code, step.ip
    )
    return Finished(DONE[Purpose.ENABLE_2FA], follow_up=AccountState.load)


FLOW = Flow(
    Purpose.ENABLE_2FA, page=PAGE, binding=Binding.SESSION, finish=_finish, resend=renew(Purpose.ENABLE_2FA)
)
