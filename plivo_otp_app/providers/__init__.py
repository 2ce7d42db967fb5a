"""OTP delivery providers behind one interface, by name."""

from __future__ import annotations

from .base import Outcome, VerifyProvider
from .fake import FakeProvider
from .plivo import PlivoProvider, PlivoSettings
from .registry import ProviderFactory, build_provider, provider_names, register_provider

__all__ = [
    "FakeProvider",
    "Outcome",
    "PlivoProvider",
    "PlivoSettings",
    "ProviderFactory",
    "VerifyProvider",
    "build_provider",
    "provider_names",
    "register_provider",
]
