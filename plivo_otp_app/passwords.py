"""Password rules (PWD-02) and Argon2id hashing (PWD-01, ENUM-02).

The rules follow NIST SP 800-63B: a length floor, a generous ceiling, any
Unicode, no composition rules, and a refusal of common or trivially guessable
passwords. Passwords are NFC-normalised before they are counted or hashed, so
the same password typed on two keyboards (composed "é" or "e" + accent) is the
same password. Nothing is ever truncated.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import string
import unicodedata
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import messages
from .errors import InvalidInput

PASSWORD_MIN_LENGTH = 15
PASSWORD_MAX_LENGTH = 128

#: Below this a password is too weak even with a second factor (63B-4 3.1.1.2).
_MIN_LENGTH_FLOOR = 8
#: Shorter names are too likely to occur by chance in an unrelated password.
_NAME_MIN_LENGTH = 4
#: What people put around a common word to satisfy old composition rules.
_DECORATION = string.digits + string.punctuation
#: Keyboard rows and alphabets whose straight runs are refused at any length.
_RUNS = ("0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")

#: Library defaults: Argon2id, t=3, m=65536 KiB, p=4, 16-byte salt (RFC 9106 low-memory profile).
_HASHER = PasswordHasher()


def check_password(
    password: object,
    *,
    min_length: int = PASSWORD_MIN_LENGTH,
    username: str = "",
    email: str = "",
) -> str:
    """Apply the password rules to a new password.

    Args:
        password: What the user typed (any type; only a non-empty string can pass).
        min_length: The fewest code points allowed, counted after NFC normalisation.
        username: The account's username; refused inside the password when it
            has at least 4 characters.
        email: The account's email address; its local part is refused inside
            the password when it has at least 4 characters.

    Returns:
        The NFC-normalised password, which is what must be hashed.

    Raises:
        InvalidInput: The password breaks a rule; the message says which.
        ValueError: `min_length` is outside 8..128 (a programming error).
    """
    if not _MIN_LENGTH_FLOOR <= min_length <= PASSWORD_MAX_LENGTH:
        raise ValueError(f"min_length must be between {_MIN_LENGTH_FLOOR} and {PASSWORD_MAX_LENGTH}")
    if not isinstance(password, str) or password == "":
        raise InvalidInput(messages.PASSWORD_EMPTY, field="password")
    password = unicodedata.normalize("NFC", password)
    if len(password) < min_length:
        raise InvalidInput(messages.password_too_short(min_length), field="password")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(messages.password_too_long(PASSWORD_MAX_LENGTH), field="password")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. a JSON "\ud800" escape
        raise InvalidInput(messages.PASSWORD_UNUSABLE, field="password") from None
    folded = password.casefold()
    if _contains_name(folded, username):
        raise InvalidInput(messages.PASSWORD_HAS_USERNAME, field="password")
    local_part = email.rsplit("@", 1)[0]
    if _contains_name(folded, local_part) or _contains_name(folded, local_part.split("+", 1)[0]):
        raise InvalidInput(messages.PASSWORD_HAS_EMAIL, field="password")
    compact = "".join(folded.split())
    if _is_common(folded, compact):
        raise InvalidInput(messages.PASSWORD_COMMON, field="password")
    if not compact or _is_pattern(folded) or _is_pattern(compact):
        raise InvalidInput(messages.PASSWORD_PATTERN, field="password")
    return password


def hash_password(password: str) -> str:
    """The Argon2id hash to store for `password` (normalised to NFC first)."""
    return _HASHER.hash(_secret(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`.

    Pass `None` for an unknown user: a full Argon2 verification still runs (against
    a dummy hash) so that a login for a missing account takes as long as one for a
    real account with a wrong password (ENUM-02). A malformed stored hash counts
    as a mismatch rather than an error.
    """
    secret = _secret(password)
    if password_hash is None:
        _verify(_dummy_hash(), secret)
        return False
    return _verify(password_hash, secret)


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other parameters than today's; rehash it after a good login.

    Raises:
        argon2.exceptions.InvalidHashError: `password_hash` is not an Argon2 hash.
    """
    return _HASHER.check_needs_rehash(password_hash)


def _secret(password: str) -> bytes:
    # surrogatepass: a lone surrogate cannot crash a login; its bytes are not valid
    # UTF-8, so they can never equal a password that `check_password` accepted.
    return unicodedata.normalize("NFC", password).encode("utf-8", "surrogatepass")


def _verify(password_hash: str, secret: bytes) -> bool:
    try:
        return _HASHER.verify(password_hash, secret)
    except (VerificationError, InvalidHashError, UnicodeError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash with the live parameters that no password matches, made on first use."""
    return _HASHER.hash(secrets.token_bytes(32))


@functools.cache
def _blocklist() -> frozenset[str]:
    text = resources.files("plivo_otp_app").joinpath("data", "common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _is_common(folded: str, compact: str) -> bool:
    """Whether the password, without spaces or surrounding digits and symbols, is on the blocklist.

    Catches "Correct Horse Battery Staple" and "sunshine2024!!!", not only the literal entries.
    """
    blocklist = _blocklist()
    stripped = compact.strip(_DECORATION)
    return any(form in blocklist for form in (folded, compact, stripped) if form)


def _is_pattern(text: str) -> bool:
    """One character repeated, or a straight run along the digits, a keyboard row or the alphabet."""
    if len(set(text)) == 1:
        return True
    return any(_is_run(text, run) or _is_run(text, run[::-1]) for run in _RUNS)


def _is_run(text: str, sequence: str) -> bool:
    """Whether each character follows the previous one in `sequence`, wrapping at its end."""
    if not set(text) <= set(sequence):
        return False
    positions = [sequence.index(char) for char in text]
    return all((b - a) % len(sequence) == 1 for a, b in itertools.pairwise(positions))


def _contains_name(folded_password: str, name: str) -> bool:
    folded_name = unicodedata.normalize("NFC", name).strip().casefold()
    return len(folded_name) >= _NAME_MIN_LENGTH and folded_name in folded_password
