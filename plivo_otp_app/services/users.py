"""The account rows: create, read and update users; the rules for names and addresses.

Every other account service reads and writes users through here, and none trusts
anything the client says about who it is: the `user_id` they pass comes from a
session the caller has just checked in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import log, messages
from ..db import session as db_session
from ..errors import InvalidCredentials, InvalidInput, NotSignedIn
from ..models import User
from ..passwords import hash_password, needs_rehash, verify_password
from ..phone import mask
from ..ratelimit import RateLimits
from ..usernames import Username, canonical
from .verification import utcnow

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


class Users:
    """The user table, and the password check of changes that need a fresh one."""

    def __init__(
        self, limits: RateLimits, db_url: str | None = None, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._limits = limits
        self._db_url = db_url
        self._now = clock

    def db(self) -> Session:
        """A session on this service's database."""
        return db_session(self._db_url)

    def get(self, user_id: int) -> User:
        """The user; `NotSignedIn` once the account is gone."""
        with self.db() as db:
            user = db.get(User, user_id)
        if user is None:
            raise NotSignedIn("user is gone")
        return user

    def find(self, name: str) -> User | None:
        """The user whose username or email address is `name` (a `login_key`)."""
        with self.db() as db:
            return db.exec(
                select(User).where(or_(col(User.username) == name, col(User.email) == name))
            ).first()

    def create(self, name: Username, email: str | None, password_hash: str, e164: str) -> int | None:
        """A new account with an unverified phone; None when the name or address is taken."""
        now = self._now()
        user = User(
            username=name.canonical,
            display_username=name.display,
            email=email,
            password_hash=password_hash,
            phone_number=e164,
            created_at=now,
            updated_at=now,
        )
        with self.db() as db:
            db.add(user)
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return None
            db.refresh(user)
        return user.id

    def update(self, user_id: int, **values: object) -> None:
        """Update the user in a transaction of its own."""
        with self.db() as db:
            db.exec(update(User).where(col(User.id) == user_id).values(updated_at=self._now(), **values))
            db.commit()

    def write(self, db: Connection, user_id: int, **values: object) -> None:
        """Update the user in the caller's transaction."""
        db.execute(update(User).where(col(User.id) == user_id).values(updated_at=self._now(), **values))

    def reauthenticate(self, user_id: int, password: object, client_ip: str) -> User:
        """The user, if `password` is theirs (for changes that need a fresh password)."""
        user = self.get(user_id)
        self._limits.check_login(client_ip, user.username)
        if not isinstance(password, str) or not verify_password(user.password_hash, password):
            log.event("reauth_failed", user_id=user_id, ip=client_ip)
            raise InvalidCredentials("bad password")
        return user

    def rehash_if_needed(self, user: User, password: str) -> None:
        """Store the password's hash anew when its parameters are out of date."""
        if needs_rehash(user.password_hash):
            self.update(user.id or 0, password_hash=hash_password(password))


def has_factor(user: User) -> bool:
    """Whether the account has a second factor that a change must not replace without it."""
    return bool(user.two_factor_enabled and user.is_phone_verified and user.phone_number)


def login_key(identifier: str) -> str:
    """What a login's username or email is looked up and its password attempts counted as.

    An email address (it has an `@`, which no username has) case-folded, as stored; a
    username in its canonical form, so each look-alike of a name is that name. A name the
    PRECIS rules refuse belongs to no account: case-folded as typed.
    """
    name = identifier.strip()
    if "@" not in name:
        try:
            return canonical(name)
        except InvalidInput:
            pass
    return name.casefold()


def check_email(value: object) -> str | None:
    """The email address, case-folded, or None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    address = value.strip().casefold() if isinstance(value, str) else ""
    if len(address) > 254 or not address.isprintable() or not _EMAIL.fullmatch(address):
        raise InvalidInput(messages.EMAIL_INVALID, field="email")
    return address


def spaced_mask(e164: str | None) -> str:
    """`+14155552671` -> `+1 ******2671`, for screens."""
    if not e164:
        return ""
    masked = mask(e164)
    stars = masked.index("*") if "*" in masked else len(masked) - 4
    return f"{masked[:stars]} {masked[stars:]}"
