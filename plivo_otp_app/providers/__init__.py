"""OTP delivery providers behind one interface."""

from __future__ import annotations

from ..config import Settings
from .base import Outcome, VerifyProvider
from .plivo import DEFAULT_BASE_URL, PlivoProvider

__all__ = ["Outcome", "PlivoProvider", "VerifyProvider", "build_provider"]


def build_provider(settings: Settings) -> VerifyProvider:
    """The provider the settings ask for.

    In sandbox mode this is still the Plivo wrapper, pointed at the embedded
    Plivo-compatible sandbox, so the production code path is the one exercised.
    """
    if settings.plivo_api_base_url:
        base_url = settings.plivo_api_base_url
    elif settings.is_sandbox:
        base_url = _own_backend_url
    else:
        base_url = DEFAULT_BASE_URL
    return PlivoProvider(
        auth_id=settings.plivo_auth_id,
        auth_token=settings.plivo_auth_token,
        base_url=base_url,
        connect_timeout=settings.plivo_connect_timeout,
        read_timeout=settings.plivo_read_timeout,
        app_uuid=settings.plivo_app_uuid,
        brand_name=settings.plivo_brand_name,
        locale=settings.plivo_locale,
        code_length=settings.code_length,
        callback_url=settings.plivo_callback_url,
    )


def _own_backend_url() -> str:
    """The app's own backend, where the embedded sandbox answers; read per call
    because Reflex settles the backend address only once the server is up."""
    from reflex.config import get_config  # noqa: PLC0415 - keep Reflex out of import time

    return get_config().api_url
