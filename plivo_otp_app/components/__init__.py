"""Small functions returning `rx.Component`."""

from .layout import connection_banner, notices, page_shell, sandbox_banner
from .verify import otp_form, phone_form, verification_flow, verified_panel

__all__ = [
    "connection_banner",
    "notices",
    "otp_form",
    "page_shell",
    "phone_form",
    "sandbox_banner",
    "verification_flow",
    "verified_panel",
]
