"""The embedded Plivo-Verify-compatible sandbox: no real SMS is sent."""

from __future__ import annotations

import functools

from starlette.routing import Route

from ..config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, Settings, get_settings
from .api import build_routes
from .faults import FAULTS, Fault
from .store import Message, SandboxStore

__all__ = ["FAULTS", "Fault", "Message", "SandboxStore", "get_store", "sandbox_routes"]


@functools.cache
def get_store() -> SandboxStore:
    """The process's sandbox store, sized from the settings."""
    settings = get_settings()
    return SandboxStore(
        expiry_seconds=settings.otp_expiry_seconds,
        default_code_length=settings.code_length,
    )


def sandbox_routes(settings: Settings) -> list[Route]:
    """The sandbox's routes for the app's backend, empty unless in sandbox mode."""
    if not settings.is_sandbox:
        return []
    return build_routes(get_store(), SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, settings.sandbox_hang_seconds)
