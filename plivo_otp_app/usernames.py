"""Usernames in any script, compared by the PRECIS rules (RFC 8265) via `precis-i18n`.

A username has two forms. The *canonical* one (the UsernameCaseMapped profile: fullwidth
and halfwidth forms mapped to their ordinary ones, lower case, NFC) is what is stored in
`otp_user.username` under its unique index, looked up at login and counted by the password
limits, so "JOHN", "john" and a fullwidth "john" are one name: a look-alike can neither
register beside an account nor get its own budget of guesses. The *display* one
(UsernameCasePreserved: the same without the lower-casing) is what the account shows, as
the user typed it.

PRECIS refuses what makes names confusable or unreadable: spaces, symbols and emoji,
compatibility forms ("ﬁ", "①", a non-breaking space), control and invisible characters,
and right-to-left names that mix in left-to-right letters. A new name also follows the
product's rules: 3-32 characters, starting with a letter or digit, and no ASCII punctuation
but dots, dashes and underscores (so never an `@`: a username never looks like an email).
"""

from __future__ import annotations

import string
import unicodedata
from typing import NamedTuple

import precis_i18n
from precis_i18n.profile import Profile

from . import messages
from .errors import InvalidInput

MIN_LENGTH = 3
MAX_LENGTH = 32

_CASE_MAPPED = precis_i18n.get_profile("UsernameCaseMapped")
_CASE_PRESERVED = precis_i18n.get_profile("UsernameCasePreserved")
_REFUSED_PUNCTUATION = frozenset(string.punctuation) - set("._-")
#: precis-i18n's reasons (after `DISALLOWED/`), grouped by the sentence that explains them.
_REASONS = {
    "spaces": "spaces",
    "symbols": "symbols",
    "has_compat": "compatibility",
    "bidi_rule": "direction",
    "controls": "invisible",
    "zero_width_joiner": "invisible",
    "zero_width_nonjoiner": "invisible",
    "precis_ignorable_properties": "invisible",
}


class Username(NamedTuple):
    """A new account's username: `canonical` is stored and compared, `display` is shown."""

    canonical: str
    display: str


def canonical(name: str) -> str:
    """The canonical form of `name` (see the module), as stored and compared.

    Raises:
        InvalidInput: PRECIS refuses the name; the message says why.
    """
    return _enforce(_CASE_MAPPED, name)


def check_username(value: object) -> Username:
    """A new username's two forms, if it follows the PRECIS and the product's rules.

    Raises:
        InvalidInput: It does not; the message says which rule it breaks.
    """
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidInput(messages.USERNAME_RULES, field="username")
    key = canonical(name)
    if (
        not MIN_LENGTH <= len(key) <= MAX_LENGTH
        or unicodedata.category(key[0])[0] not in "LN"
        or not _REFUSED_PUNCTUATION.isdisjoint(key)
    ):
        raise InvalidInput(messages.USERNAME_RULES, field="username")
    return Username(key, _enforce(_CASE_PRESERVED, name))


def _enforce(profile: Profile, name: str) -> str:
    try:
        return profile.enforce(name)
    except UnicodeEncodeError as exc:
        reason = str(exc.reason).removeprefix("DISALLOWED/")
        if any(char.isspace() for char in exc.object[exc.start : exc.end]):
            reason = "spaces"  # an ideographic or no-break space is refused as a compatibility form
        refused = messages.username_refused(_REASONS.get(reason, reason))
        raise InvalidInput(refused, field="username") from None
