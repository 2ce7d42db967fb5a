"""The rules, written once, under both the UI and the JSON API."""

from __future__ import annotations

import functools

from ..config import get_settings
from ..providers import build_provider
from ..ratelimit import RateLimits
from .verification import Checked, Started, VerificationService

__all__ = ["Checked", "Started", "VerificationService", "get_verification_service"]


@functools.cache
def get_verification_service() -> VerificationService:
    """The process's verification service, built from the settings."""
    settings = get_settings()
    return VerificationService(settings, build_provider(settings), RateLimits(settings))
