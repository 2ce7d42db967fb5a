"""The code flows by purpose: each purpose is one module with its `Flow`, registered in
`builtin.py`; `VerifyState` looks the flow up (`get`) and dispatches.

A host app adds a purpose with one module and `register(Flow(...))`. This package's own
modules import no state at import time but `builtin`, which `plivo_otp_app.state` imports
once its states exist (the feature flows use them).
"""

from .base import Binding, Finish, Finished, Flow, Resend, Send, Step, renew
from .registry import get, pages, register, unregister

__all__ = [
    "Binding",
    "Finish",
    "Finished",
    "Flow",
    "Resend",
    "Send",
    "Step",
    "get",
    "pages",
    "register",
    "renew",
    "unregister",
]
