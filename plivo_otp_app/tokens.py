"""Random secrets for sessions, tickets, remembered devices and backup codes.

Every secret comes from `secrets`. Only its SHA-256 digest is stored, so a leaked
database does not hand out live sessions or codes. A fast hash is right here,
unlike for passwords: these values are random with 80 bits or more of entropy,
so there is no dictionary to try and slowing each guess down buys nothing
(SES-01, LIFE-05).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits; sessions need >= 128 (ASVS 5 7.2.3)

#: RFC 4648 base32: A-Z and 2-7, so no 0/1/8/9.
BACKUP_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BACKUP_CODE_BYTES = 10  # 80 bits, exactly 16 base32 characters without padding
BACKUP_CODE_LENGTH = 16
BACKUP_CODE_GROUP = 4
BACKUP_CODE_COUNT = 10
#: Longer input is not a code someone typed; refuse it before doing any work.
_BACKUP_INPUT_MAX_LENGTH = 64


def new_token() -> str:
    """A fresh URL-safe token with 256 bits of entropy (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest to store and look a token up by."""
    return hashlib.sha256(_bytes(token)).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Compare two secrets in constant time (ENUM-04); never use `==` on secrets."""
    return hmac.compare_digest(_bytes(a), _bytes(b))


def new_backup_codes(count: int = BACKUP_CODE_COUNT) -> list[str]:
    """`count` distinct backup codes, each 80 random bits shown as 'ABCD-EFGH-JKLM-NPQR'."""
    if count < 1:
        raise ValueError("count must be at least 1")
    codes: dict[str, None] = {}  # ordered and distinct
    while len(codes) < count:
        raw = base64.b32encode(secrets.token_bytes(BACKUP_CODE_BYTES)).decode("ascii")
        groups = (raw[i : i + BACKUP_CODE_GROUP] for i in range(0, BACKUP_CODE_LENGTH, BACKUP_CODE_GROUP))
        codes["-".join(groups)] = None
    return list(codes)


def normalise_backup_code(text: object) -> str | None:
    """The 16 upper-case base32 characters of a typed or pasted backup code, or None.

    Any case, spaces, dashes and surrounding whitespace are accepted. Anything
    non-ASCII is refused rather than mapped: `str.upper` would turn a dotless
    'i' (U+0131) into 'I' and a long 's' (U+017F) into 'S', and full-width letters are
    not codes.
    """
    if not isinstance(text, str) or len(text) > _BACKUP_INPUT_MAX_LENGTH or not text.isascii():
        return None
    code = text.strip().replace(" ", "").replace("-", "").upper()
    if len(code) != BACKUP_CODE_LENGTH or not all(char in BACKUP_CODE_ALPHABET for char in code):
        return None
    return code


def hash_backup_code(normalised: str) -> str:
    """The SHA-256 hex digest to store for a backup code.

    Raises:
        ValueError: `normalised` is not what `normalise_backup_code` returns; hashing
            the dashed form would store a digest no typed code could match.
    """
    if normalise_backup_code(normalised) != normalised:
        raise ValueError("hash_backup_code takes the output of normalise_backup_code")
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


def _bytes(value: str) -> bytes:
    # surrogatepass: a lone surrogate from a JSON body cannot crash the comparison;
    # its bytes are not valid UTF-8, so they never equal a real token.
    return value.encode("utf-8", "surrogatepass")
