"""Backup codes: a set of single-use codes that stand in for the phone.

A right, unused backup code is never refused for the SMS factor's lock (a
stranger who has the password must not be able to keep the owner out); a wrong
one counts like a wrong SMS code, and while the factor is locked it also ends
the flow, so every further guess costs a password step. A code is used up in
the transaction that does what it allows (signs in, changes the account), so a
step that fails uses nothing up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, func, insert, update
from sqlmodel import Session, col, select

from .. import log, messages
from ..db import session as db_session
from ..db import transaction
from ..errors import BackupCodeStartOver, CodeRejected, InvalidInput
from ..models import BackupCode, User
from ..ratelimit import RateLimits
from ..tokens import hash_backup_code, new_backup_codes, normalise_backup_code
from .lockout import Lockout
from .verification import utcnow

T = TypeVar("T")


class BackupCodeRejected(CodeRejected):
    """A backup code that is wrong, used, or tried while the account is locked."""

    code = "backup_code_incorrect"

    def __init__(self) -> None:
        super().__init__(0)

    def user_message(self) -> str:
        return messages.say(messages.BACKUP_CODE_REJECTED)


class BackupCodes:
    """Generate, redeem and count an account's backup codes."""

    def __init__(
        self,
        limits: RateLimits,
        lockout: Lockout,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._limits = limits
        self._lockout = lockout
        self._db_url = db_url
        self._now = clock

    def new_codes(self) -> list[str]:
        """A fresh set of codes to show once (stored only by `replace`)."""
        return new_backup_codes()

    def replace(self, db: Connection, user_id: int, codes: list[str]) -> None:
        """Make `codes` the user's set in the caller's transaction; the old set stops working."""
        now = self._now()
        db.execute(
            update(BackupCode)
            .where(col(BackupCode.user_id) == user_id)
            .where(col(BackupCode.used_at).is_(None))
            .values(used_at=now)
        )
        db.execute(
            insert(BackupCode.__table__),  # type: ignore[attr-defined]
            [
                {
                    "user_id": user_id,
                    "code_hash": hash_backup_code(normalise_backup_code(c) or ""),
                    "created_at": now,
                }
                for c in codes
            ],
        )

    def redeem(
        self,
        user: User,
        code: object,
        client_ip: str,
        grant: Callable[[Connection], T],
        end_flow: Callable[[], None],
    ) -> T:
        """Use up one unused backup code of `user` and run `grant`, in one transaction.

        A right code is never refused for the SMS factor's lock (temporary, or after
        `SMS_FACTOR_DISABLED_AFTER` failures), and lifts it. A wrong one counts as a
        failure; while the factor is locked it ends the flow instead (`end_flow`), so
        each further guess costs a password step.
        """
        assert user.id is not None
        normalised = normalise_backup_code(code)
        if normalised is None:
            raise InvalidInput(messages.BACKUP_CODE_FORMAT, field="code")
        self._limits.check_verify(client_ip)
        granted: tuple[T] | None = None
        with transaction(self._db_url) as db:
            used = db.execute(
                update(BackupCode)
                .where(col(BackupCode.user_id) == user.id)
                .where(col(BackupCode.code_hash) == hash_backup_code(normalised))
                .where(col(BackupCode.used_at).is_(None))
                .values(used_at=self._now())
            ).rowcount
            if used == 1:
                self._lockout.reset(db, user.id)
                granted = (grant(db),)
        if granted is not None:
            log.event("backup_code_used", user_id=user.id, left=self.left(user.id))
            return granted[0]
        if self._lockout.locked(user):
            end_flow()
            log.event("backup_code_refused", logging.WARNING, user_id=user.id, reason="wrong-while-locked")
            raise BackupCodeStartOver("wrong backup code while locked")
        self._lockout.count_failure(user.id)
        log.event("backup_code_refused", logging.WARNING, user_id=user.id, reason="wrong")
        raise BackupCodeRejected

    def left(self, user_id: int) -> int:
        """How many backup codes are still unused."""
        with self._db() as db:
            return db.exec(
                select(func.count())
                .select_from(BackupCode)
                .where(BackupCode.user_id == user_id)
                .where(col(BackupCode.used_at).is_(None))
            ).one()

    def _db(self) -> Session:
        return db_session(self._db_url)
