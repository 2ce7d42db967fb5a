"""`/`: verify any number. The code proves the phone; nothing else happens."""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..services import Started
from .base import Binding, Finished, Flow, Step, renew


async def _send(step: Step, phone: object, country: object, channel: object) -> Started:
    service = step.verifications()
    return await asyncio.to_thread(
        service.start, phone, country, channel, step.ip, Purpose.VERIFY, None, step.challenge
    )


async def _finish(step: Step, code: object) -> Finished:
    service = step.verifications()
    checked = await asyncio.to_thread(service.check, step.verification_id, code, step.ip)
    return Finished(masked_phone=checked.masked)


FLOW = Flow(
    Purpose.VERIFY,
    page="verify",
    binding=Binding.NONE,
    finish=_finish,
    resend=renew(Purpose.VERIFY),
    send=_send,
)
