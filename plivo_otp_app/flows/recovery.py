"""`/reset-password`: the code to the account's verified phone; a right one opens the new-password
step (`RecoveryState`), which also asks for a backup code when two-factor login is on."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..services import Started
from ..state.recovery import RecoveryState
from .base import Binding, Finished, Flow, Step


async def _resend(step: Step, channel: str) -> Started:
    services = step.services()
    return await asyncio.to_thread(services.recovery.resend, step.verification_id, channel, step.ip)


async def _finish(step: Step, code: object) -> Finished:
    services = step.services()
    checked = await asyncio.to_thread(services.recovery.check_code, step.verification_id, code, step.ip)
    (await step.state.get_state(RecoveryState))._open_password_step(
        step.verification_id, checked.backup_code_required
    )
    # The code step is over: the page goes on with the new password.
    return Finished(start_over=True)


FLOW = Flow(
    Purpose.RESET_PASSWORD,
    page="reset-password",
    binding=Binding.BROWSER,
    finish=_finish,
    resend=_resend,
)
