"""The library's own purposes, registered: a new purpose is its module and one entry here.

Imported by `plivo_otp_app.state` once its states exist, since the feature flows use them.
"""

from __future__ import annotations

from . import (
    backup_codes,
    change_phone,
    confirm_phone,
    disable_2fa,
    enable_2fa,
    login,
    recovery,
    signup,
    verify,
    verify_phone,
)
from .registry import register

for _module in (
    verify,
    signup,
    login,
    enable_2fa,
    disable_2fa,
    change_phone,
    confirm_phone,
    backup_codes,
    verify_phone,
    recovery,
):
    register(_module.FLOW)
