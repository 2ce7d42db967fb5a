"""The account page: after the password, the current factor (a code, or a backup code) turns
two-factor login off."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..messages import DONE
from ..state.account import AccountState
from ._account import PAGE, user_id
from .base import Binding, Finished, Flow, Step, renew


async def _turn_off(step: Step, code: object, backup: bool) -> Finished:
    services = step.services()
    await asyncio.to_thread(
        services.account_changes.finish_disable_2fa,
        user_id(step),
        step.verification_id,
        code,
        step.ip,
        backup,
    )
    return Finished(DONE[Purpose.DISABLE_2FA], follow_up=AccountState.load)


async def _finish(step: Step, code: object) -> Finished:
    return await _turn_off(step, code, backup=False)


async def _finish_with_backup_code(step: Step, code: object) -> Finished:
    return await _turn_off(step, code, backup=True)


FLOW = Flow(
    Purpose.DISABLE_2FA,
    page=PAGE,
    binding=Binding.SESSION,
    finish=_finish,
    resend=renew(Purpose.DISABLE_2FA),
    finish_with_backup_code=_finish_with_backup_code,
)
