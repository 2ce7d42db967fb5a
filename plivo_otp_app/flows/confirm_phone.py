"""The account page, a phone change of an account with 2FA: the current factor (a code to the
current phone, or a backup code) first; then the page asks for the new number."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..state.account import AccountState
from ._account import PAGE, user_id
from .base import Binding, Finished, Flow, Step, renew


async def _confirm(step: Step, code: object, backup: bool) -> Finished:
    services = step.services()
    await asyncio.to_thread(
        services.account_changes.confirm_phone_change,
        user_id(step),
        step.verification_id,
        code,
        step.ip,
        backup,
    )
    (await step.state.get_state(AccountState)).open_new_phone_step()
    # The code step is over; a backup code may have been used: the count changed.
    return Finished(start_over=True, follow_up=AccountState.load)


async def _finish(step: Step, code: object) -> Finished:
    return await _confirm(step, code, backup=False)


async def _finish_with_backup_code(step: Step, code: object) -> Finished:
    return await _confirm(step, code, backup=True)


FLOW = Flow(
    Purpose.CONFIRM_PHONE,
    page=PAGE,
    binding=Binding.SESSION,
    finish=_finish,
    resend=renew(Purpose.CONFIRM_PHONE),
    finish_with_backup_code=_finish_with_backup_code,
)
