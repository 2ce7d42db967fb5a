"""The built-in challenge: a proof of work in the ALTCHA protocol (v2, PBKDF2-SHA-256).

The server picks a secret counter below `CHALLENGE_MAX_NUMBER` and publishes the first half
of the key PBKDF2 derives from it (`CHALLENGE_COST` iterations), signed with the
installation's key; the client tries counters from 0 until its key starts so (half the range
on average, in the browser's workers: the `altcha` web component). The answer carries an
HMAC of the whole key too, so checking it costs two HMACs, not a derivation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import altcha

if TYPE_CHECKING:
    from ..config import Settings

ALGORITHM = "PBKDF2/SHA-256"
#: An answer is base64 of a small JSON object; anything longer is not one of ours.
MAX_ANSWER_LENGTH = 2048
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _subkey(key: bytes, label: bytes) -> bytes:
    """A key of its own for each use of the installation's secret."""
    return hmac.new(key, b"challenge/" + label, hashlib.sha256).digest()


class PowChallenge:
    """ALTCHA v2 proof of work; see the module docstring."""

    name = "pow"

    def __init__(self, cost: int, max_number: int) -> None:
        self.cost = cost
        self.max_number = max_number

    def issue(self, key: bytes, expires_at: datetime) -> dict[str, Any]:
        challenge = altcha.create_challenge(
            ALGORITHM,
            self.cost,
            counter=secrets.randbelow(self.max_number),
            expires_at=expires_at,
            hmac_secret=_subkey(key, b"signature"),
            hmac_key_secret=_subkey(key, b"derived-key"),
        )
        return challenge.to_dict()

    def check(self, key: bytes, answer: str, now: datetime) -> tuple[str, datetime] | None:
        if not isinstance(answer, str) or len(answer) > MAX_ANSWER_LENGTH or not _BASE64.fullmatch(answer):
            return None
        try:
            payload = json.loads(base64.b64decode(answer, validate=True))
            parameters = payload["challenge"]["parameters"]
            expires = parameters["expiresAt"]
            signature = payload["challenge"]["signature"]
            if type(expires) is not int or not isinstance(signature, str):
                return None
            expires_at = datetime.fromtimestamp(expires, UTC)
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError, OverflowError, OSError):
            return None
        if parameters.get("algorithm") != ALGORITHM or expires_at <= now:
            return None
        result = altcha.verify_solution(
            answer,
            _subkey(key, b"signature"),
            hmac_key_secret=_subkey(key, b"derived-key"),
        )
        if not result.verified:
            return None
        return hashlib.sha256(signature.encode()).hexdigest(), expires_at


def pow_challenge(settings: Settings) -> PowChallenge:
    """The `pow` provider at the settings' difficulty."""
    return PowChallenge(settings.challenge.cost, settings.challenge.max_number)
