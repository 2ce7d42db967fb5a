"""What the account page's flows share: their page, and their user."""

from __future__ import annotations

from ..errors import NotSignedIn
from .base import Step

#: The page every account flow belongs to.
PAGE = "account"


def user_id(step: Step) -> int:
    """The flow's user, whom the binding check found signed in on the session that started it.

    Raises:
        NotSignedIn: The flow has no user (never, for a flow bound to its session).
    """
    if step.user_id is None:
        raise NotSignedIn("account flow without a user")
    return step.user_id
