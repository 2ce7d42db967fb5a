"""Challenge providers by name: `CHALLENGE_PROVIDER` picks one, `build_challenge` builds it.

Built in: `pow`, a proof of work in the ALTCHA protocol that needs no third-party service.
A host app plugs a real CAPTCHA in with `register_challenge(name, factory)` before the
settings are loaded: its `issue` returns what its widget needs (a site key), its `check`
asks its service about the token the widget produced and returns the token's id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import ChallengeProvider
from .pow import pow_challenge

if TYPE_CHECKING:
    from ..config import Settings

#: Builds a challenge provider from the settings.
ChallengeFactory = Callable[["Settings"], ChallengeProvider]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FACTORIES: dict[str, ChallengeFactory] = {}


def register_challenge(name: str, factory: ChallengeFactory) -> None:
    """Make `CHALLENGE_PROVIDER=name` build its provider with `factory`; a later call replaces it."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a challenge name is lower-case letters, digits, - or _, got {name!r}")
    _FACTORIES[name] = factory


def challenge_names() -> tuple[str, ...]:
    """The registered names, in registration order."""
    return tuple(_FACTORIES)


def build_challenge(settings: Settings) -> ChallengeProvider:
    """The challenge provider the settings name."""
    try:
        factory = _FACTORIES[settings.challenge.provider]
    except KeyError:
        raise LookupError(f"no challenge is registered as {settings.challenge.provider!r}") from None
    return factory(settings)


register_challenge("pow", pow_challenge)
