"""Magic numbers: recipients for which the sandbox misbehaves on purpose.

Every error path of the app can be shown by hand with one of these (US
fictional 555-01xx numbers, valid for `phonenumbers`, never real subscribers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What the sandbox does when a code is requested for the number."""

    e164: str
    status: int  # 0 means "answer normally" (after a hang, or with an undelivered SMS)
    error: str
    description: str
    #: Hang `SANDBOX_HANG_SECONDS` before answering.
    hang: bool = False
    #: What becomes of its text messages (their callbacks' final status).
    sms_status: str = "delivered"


FAULTS: dict[str, Fault] = {
    f.e164: f
    for f in (
        Fault("+12025550100", 400, "invalid recipient", "Plivo refuses the number (400)"),
        Fault("+12025550101", 403, "destination country is not permitted", "geo-permission block (403)"),
        Fault("+12025550102", 429, "too many requests", "Plivo rate limit (429)"),
        Fault("+12025550103", 500, "internal server error", "Plivo server error (500)"),
        Fault("+12025550104", 0, "", "Plivo hangs past the read timeout", hang=True),
        Fault(
            "+12025550105",
            0,
            "",
            "the SMS is undelivered (callback), a call gets through",
            sms_status="undelivered",
        ),
    )
}


def fault_for(recipient: str) -> Fault | None:
    """The fault configured for a recipient given with or without `+`."""
    return FAULTS.get("+" + recipient.lstrip("+"))
