"""The account page: after the password, the current factor (a code, or an unused backup code)
gets ten new backup codes, shown once on the account page; the old ones stop working."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..messages import DONE
from ..state.account import AccountState
from ._account import PAGE, user_id
from .base import Binding, Finished, Flow, Step, renew


async def _regenerate(step: Step, code: object, backup: bool) -> Finished:
    services = step.services()
    codes = await asyncio.to_thread(
        services.account_changes.regenerate_backup_codes,
        user_id(step),
        step.verification_id,
        code,
        step.ip,
        backup,
    )
    (await step.state.get_state(AccountState))._show_backup_codes_once(codes)
    return Finished(DONE[Purpose.BACKUP_CODES], follow_up=AccountState.refresh)


async def _finish(step: Step, code: object) -> Finished:
    return await _regenerate(step, code, backup=False)


async def _finish_with_backup_code(step: Step, code: object) -> Finished:
    return await _regenerate(step, code, backup=True)


FLOW = Flow(
    Purpose.BACKUP_CODES,
    page=PAGE,
    binding=Binding.SESSION,
    finish=_finish,
    resend=renew(Purpose.BACKUP_CODES),
    finish_with_backup_code=_finish_with_backup_code,
)
