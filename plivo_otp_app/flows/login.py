"""`/login`: the second factor after the password; the SMS code or a backup code signs in."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..messages import DONE
from ..services import Started
from .base import Binding, Finished, Flow, Step


async def _resend(step: Step, channel: str) -> Started:
    services = step.services()
    return await asyncio.to_thread(services.logins.login_resend, step.pending_token, channel, step.ip)


async def _finish(step: Step, code: object) -> Finished:
    services = step.services()
    user_id = await asyncio.to_thread(services.logins.login_with_code, step.pending_token, code, step.ip)
    await step.state._sign_in(user_id, step.remember_device)
    return Finished(DONE[Purpose.LOGIN])


async def _finish_with_backup_code(step: Step, code: object) -> Finished:
    services = step.services()
    issue = step.state._ticket_issuer(step.remember_device)
    # The ticket is issued in the transaction that uses the backup code up.
    ticket = await asyncio.to_thread(
        services.logins.login_with_backup_code, step.pending_token, code, step.ip, issue
    )
    assert isinstance(ticket, str)  # what the issuer returned
    step.state._leave_with(ticket)
    return Finished(DONE["backup-code"])


FLOW = Flow(
    Purpose.LOGIN,
    page="login",
    binding=Binding.BROWSER,
    finish=_finish,
    resend=_resend,
    finish_with_backup_code=_finish_with_backup_code,
)
