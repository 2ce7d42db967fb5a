"""The challenge before a risky send: issued when the pumping policy asks for one
(`Action.CHALLENGE`), answered by the client, taken once.

`Challenges` wraps the configured provider (`CHALLENGE_PROVIDER`, `registry.py`) with what
every provider needs: the installation's signing key (`CHALLENGE_HMAC_KEY`, else a random
one made once in `otp_challenge_key`, so every worker signs and checks alike) and single use
(a right answer's id goes into `otp_challenge_spent` by a primary-key insert, so a second
presentation fails on whichever worker it reaches).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .. import log
from ..config import Settings
from ..db import autocommit
from ..models import ChallengeKey, SpentChallenge
from .base import ChallengeProvider
from .registry import ChallengeFactory, build_challenge, challenge_names, register_challenge

__all__ = [
    "ChallengeFactory",
    "ChallengeProvider",
    "Challenges",
    "build_challenge",
    "challenge_names",
    "register_challenge",
]

_keys = ChallengeKey.__table__  # type: ignore[attr-defined]
_spent = SpentChallenge.__table__  # type: ignore[attr-defined]


class Challenges:
    """Issue challenges and redeem answers, once each, for one database."""

    def __init__(
        self,
        settings: Settings,
        db_url: str | None = None,
        provider: ChallengeProvider | None = None,
    ) -> None:
        self.settings = settings.challenge
        self.provider = provider or build_challenge(settings)
        self._db_url = db_url
        self._key = self.settings.hmac_key.encode() if self.settings.hmac_key else b""

    def issue(self, now: datetime) -> dict[str, Any]:
        """A new challenge: `{"provider": name, "challenge": {...}}`, what a client solves."""
        expires_at = now + timedelta(seconds=self.settings.ttl_seconds)
        return {
            "provider": self.provider.name,
            "challenge": self.provider.issue(self._signing_key(), expires_at),
        }

    def redeem(self, answer: object, now: datetime) -> bool:
        """Whether `answer` rightly answers an unexpired challenge not presented before; it is
        taken either way it was right (a second presentation is refused)."""
        if not isinstance(answer, str) or not answer:
            return False
        checked = self.provider.check(self._signing_key(), answer, now)
        if checked is None:
            log.event("challenge_failed", reason="wrong")
            return False
        answer_id, expires_at = checked
        try:
            with autocommit(self._db_url) as db:
                db.execute(delete(_spent).where(_spent.c.expires_at < now))
                db.execute(insert(_spent).values(id=answer_id, expires_at=expires_at))
        except IntegrityError:
            log.event("challenge_failed", logging.WARNING, reason="replayed")
            return False
        return True

    def _signing_key(self) -> bytes:
        """The configured key, else the installation's: read, or made by the first writer."""
        if not self._key:
            with autocommit(self._db_url) as db:
                self._key = bytes.fromhex(_installation_key(db))
        return self._key


def _installation_key(db: Connection) -> str:
    row = db.execute(select(_keys.c.key).where(_keys.c.id == 1)).scalar()
    if row is None:
        dialect = postgresql if db.dialect.name == "postgresql" else sqlite
        made = dialect.insert(_keys).values(id=1, key=secrets.token_hex(32))
        db.execute(made.on_conflict_do_nothing(index_elements=[_keys.c.id]))
        row = db.execute(select(_keys.c.key).where(_keys.c.id == 1)).scalar_one()
    return row
