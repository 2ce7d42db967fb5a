"""The rules, written once, under both the UI and the JSON API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from ..config import get_settings
from ..errors import ServiceUnavailable
from ..passwords import verify_password
from ..providers import build_provider
from ..ratelimit import RateLimits
from .accounts import AccountService, AccountView, LoginResult, SignupResult
from .sessions import Redeemed, SessionService
from .verification import Checked, Started, VerificationService

__all__ = [
    "AccountService",
    "AccountView",
    "Checked",
    "LoginResult",
    "Redeemed",
    "SessionService",
    "SignupResult",
    "Started",
    "VerificationService",
    "get_account_service",
    "get_session_service",
    "get_verification_service",
]

T = TypeVar("T")


def _built(build: Callable[[], T]) -> Callable[[], T]:
    """A cached service factory whose failure (settings, database, limit store) is an outage.

    The caller then answers with the outage sentence instead of a bare error; nothing
    is cached on failure, so the next call tries again once the cause is fixed.
    """
    cached = functools.cache(build)

    @functools.wraps(build)
    def get() -> T:
        try:
            return cached()
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"cannot build {build.__name__}: {type(exc).__name__}") from exc

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


@_built
def get_verification_service() -> VerificationService:
    """The process's verification service, built from the settings."""
    settings = get_settings()
    return VerificationService(settings, build_provider(settings), RateLimits(settings))


@_built
def get_session_service() -> SessionService:
    """The process's session service."""
    return SessionService(get_settings())


@_built
def get_account_service() -> AccountService:
    """The process's account service, on the same verification and session services.

    Builds the dummy password hash now, so the first login for an unknown name
    takes no longer than any other (no timing tell).
    """
    verify_password(None, "")
    return AccountService(get_settings(), get_verification_service(), get_session_service())
