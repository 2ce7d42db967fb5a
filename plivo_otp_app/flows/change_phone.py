"""The account page: the code sent to the new number makes it the account's phone."""

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
        services.account_changes.finish_change_phone, user_id(step), step.verification_id, code, step.ip
    )
    return Finished(DONE[Purpose.CHANGE_PHONE], follow_up=AccountState.load)


FLOW = Flow(
    Purpose.CHANGE_PHONE,
    page=PAGE,
    binding=Binding.SESSION,
    finish=_finish,
    resend=renew(Purpose.CHANGE_PHONE),
)
