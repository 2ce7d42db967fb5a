"""The embedded Plivo-Verify-compatible sandbox: no real SMS is sent."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.routing import Route

from .api import build_routes
from .faults import FAULTS, Fault
from .settings import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, SandboxSettings
from .store import Message, SandboxStore

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["FAULTS", "Fault", "Message", "SandboxSettings", "SandboxStore", "get_store", "sandbox_routes"]


@functools.cache
def get_store() -> SandboxStore:
    """The process's sandbox store, sized from the settings."""
    from ..config import get_settings  # noqa: PLC0415 - the settings import this package

    settings = get_settings()
    return SandboxStore(
        expiry_seconds=settings.otp.expiry_seconds,
        default_code_length=settings.otp.code_length,
        webotp_host=frontend_host(),
    )


def frontend_host() -> str:
    """The host of the app's pages (`REFLEX_DEPLOY_URL`; localhost by default): the site a
    code's WebOTP line names."""
    from reflex.config import get_config  # noqa: PLC0415 - read where Reflex reads it

    return urlsplit(get_config().deploy_url or "").hostname or "localhost"


def sandbox_routes(settings: Settings) -> list[Route]:
    """The sandbox's routes for the app's backend, empty unless in sandbox mode."""
    if not settings.provider.is_sandbox:
        return []
    hang_seconds = settings.provider.sandbox.hang_seconds

    def own_callback(url: str) -> bool:
        """The embedded sandbox posts delivery callbacks to the app's own endpoint only."""
        from ..providers.plivo import callback_url  # noqa: PLC0415 - the providers import this package

        return url == callback_url(settings)

    return build_routes(get_store(), SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, hang_seconds, own_callback)
