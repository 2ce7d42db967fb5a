"""Providers by name: `OTP_PROVIDER` picks one, `build_provider` builds it from the settings.

Built in: `plivo` (Plivo Verify), `sandbox` (the Plivo wrapper pointed at the embedded
sandbox) and `fake` (in-process, no HTTP). A host app adds its own with
`register_provider` before the settings are loaded; every provider must pass
`tests/integration/test_provider_contract.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import VerifyProvider
from .fake import fake_provider
from .plivo import plivo_provider, sandbox_provider

if TYPE_CHECKING:
    from ..config import Settings

#: Builds a provider from the settings (a provider's own settings can live in the factory).
ProviderFactory = Callable[["Settings"], VerifyProvider]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FACTORIES: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make `OTP_PROVIDER=name` build its provider with `factory`; a name registered again is replaced."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a provider name is lower-case letters, digits, - or _, got {name!r}")
    _FACTORIES[name] = factory


def provider_names() -> tuple[str, ...]:
    """The registered names, in registration order."""
    return tuple(_FACTORIES)


def build_provider(settings: Settings) -> VerifyProvider:
    """The provider the settings name."""
    try:
        factory = _FACTORIES[settings.provider.name]
    except KeyError:
        raise LookupError(f"no provider is registered as {settings.provider.name!r}") from None
    return factory(settings)


register_provider("plivo", plivo_provider)
register_provider("sandbox", sandbox_provider)
register_provider("fake", fake_provider)
