"""`/signup`: the new account's phone code; the right code signs the new account in.

The code step's phone form sends to a new number of the same account. A name or email
taken meanwhile sends the form back, filled in, to choose another.
"""

from __future__ import annotations

import asyncio

from ..enums import Purpose
from ..messages import DONE
from ..services import Started
from ..state.login import SignupState
from .base import Binding, Finished, Flow, Step, renew


async def _send(step: Step, phone: object, country: object, channel: object) -> Started:
    services = step.services()
    return await asyncio.to_thread(
        services.signups.change_signup_phone, step.user_id, phone, country, channel, step.ip, step.challenge
    )


async def _finish(step: Step, code: object) -> Finished:
    services = step.services()
    created = await asyncio.to_thread(
        services.signups.finish_signup, step.user_id, step.verification_id, code, step.ip
    )
    if created and step.user_id is not None:
        await step.state._sign_in(step.user_id)
        return Finished(DONE[Purpose.SIGNUP])
    (await step.state.get_state(SignupState)).name_taken()
    return Finished(start_over=True)


FLOW = Flow(
    Purpose.SIGNUP,
    page="signup",
    binding=Binding.BROWSER,
    finish=_finish,
    resend=renew(Purpose.SIGNUP),
    send=_send,
)
