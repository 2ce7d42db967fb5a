"""The embedded sandbox's own settings (`SANDBOX_*`) and the fixed values it answers to."""

from __future__ import annotations

from dataclasses import dataclass

from ..environ import Checked, as_flag, as_float, between, var

#: Credentials the embedded sandbox accepts; they are never real Plivo credentials.
SANDBOX_AUTH_ID = "MASANDBOX00000000000"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - a public test value
#: The sandbox's second Verify application, for codes to an account's own verified phone.
SANDBOX_ACCOUNT_APP_UUID = "00000000-0000-4000-8000-00000000acc7"
#: The sender number the sandbox's notices come from.
SANDBOX_SMS_SOURCE = "+15550000000"


@dataclass(frozen=True)
class SandboxSettings(Checked):
    """How the embedded sandbox behaves."""

    #: How long the sandbox hangs for the "hangs past the read timeout" fault number.
    hang_seconds: float = var("SANDBOX_HANG_SECONDS", 10.0, as_float, between(0, 120))
    #: Serve the sandbox even though real Plivo credentials are set (they are then dropped).
    force: bool = var("SANDBOX_FORCE", False, as_flag)
