"""What a challenge provider is: it asks a question a client must answer before a risky send,
and recognises a right answer once (`Challenges` keeps the answers already taken)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class ChallengeProvider(Protocol):
    """Issues challenges and checks answers; stateless (every worker builds its own)."""

    #: The provider's registered name (`CHALLENGE_PROVIDER`), given to clients beside a challenge.
    name: str

    def issue(self, key: bytes, expires_at: datetime) -> dict[str, Any]:
        """A new challenge, as the JSON object a client solves, valid until `expires_at`.

        `key` is the installation's secret (shared by every worker): sign with it.
        """
        ...

    def check(self, key: bytes, answer: str, now: datetime) -> tuple[str, datetime] | None:
        """The answer's single-use id and the time it stops mattering, if it is a right,
        unexpired answer to a challenge this installation issued; None otherwise. Never raises
        for a malformed answer (an attacker writes it)."""
        ...
