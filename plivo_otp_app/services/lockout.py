"""The SMS factor's lockout: one failure counter per account, for every second-factor check.

Second-factor checks of every purpose (login, 2FA on/off, phone change) share
one failure counter per account: resending never resets it, success does, and
past `OTP_LOCKOUT_AFTER` consecutive failures the SMS factor is locked for a
delay that doubles with each further failure. While locked, a right code gets
exactly the answer a wrong one gets.

The lock is decided where the count is kept, in one conditional UPDATE: a code
check first counts itself as a failure, and goes to the provider only if that
UPDATE matched (not locked, fewer than `OTP_LOCKOUT_AFTER` counted); from the
threshold on a check takes the only slot and its wrong answer sets the lock. A
right code resets the count, and a check that was never judged gives its count
back. So parallel guesses cannot all pass a lock check read before any of them
was counted: at most `OTP_LOCKOUT_AFTER` are judged before the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, update
from sqlmodel import Session, col

from .. import log
from ..audit import Audit, AuditKind
from ..config import Settings
from ..db import session as db_session
from ..errors import CodeRejected, NoAttemptsLeft, RateLimited, TooManyAttempts
from ..models import User
from .users import Users
from .verification import Checked, VerificationService, utcnow

#: Consecutive failures after which SMS codes are refused until a backup code is used
#: (NIST SP 800-63B: at most 100, then the authenticator is disabled).
SMS_FACTOR_DISABLED_AFTER = 100
#: How long a second-factor check that reached the lockout threshold holds the only slot
#: when it never reports back (its process died); well above the provider's timeouts.
_CHECK_HOLD = timedelta(seconds=60)


class Lockout:
    """Check an account's codes under its failure counter; count, lock and lift."""

    def __init__(
        self,
        settings: Settings,
        verifications: VerificationService,
        users: Users,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        audit: Audit | None = None,
    ) -> None:
        self._settings = settings
        self._verifications = verifications
        self._users = users
        self._db_url = db_url
        self._now = clock
        self._audit = audit or verifications.audit

    def check_code(
        self,
        user: User,
        verification_id: object,
        code: object,
        client_ip: str,
        purpose: str,
        then: Callable[[Connection], None] | None = None,
    ) -> Checked:
        """Check a code of `user` for `purpose` under the account's failure counter and lockout.

        A right code resets the counter, and runs `then` (the change it allows), in the
        transaction that uses the code up.
        """
        assert user.id is not None
        user_id = user.id
        if not self._claim_guess(user_id):
            self._refusal(user_id)
            log.event("validate_refused", logging.WARNING, user_id=user_id, reason="locked", purpose=purpose)
            self._verifications.refuse(verification_id, code, client_ip, purpose, user_id)

        def reset_then_change(db: Connection) -> None:
            self.reset(db, user_id)
            if then is not None:
                then(db)

        try:
            return self._verifications.check(
                verification_id, code, client_ip, purpose, user_id, then=reset_then_change
            )
        except NoAttemptsLeft:
            self._refund_guess(user_id)  # no code was judged: nothing to count
            raise
        except (CodeRejected, TooManyAttempts):
            self._judged_wrong(user_id)  # counted by the claim
            raise
        except BaseException:
            self._refund_guess(user_id)
            raise

    def locked(self, user: User) -> bool:
        """Locked for a while, or (at 100 failures) until a backup code signs in (BF-02)."""
        if user.failed_otp_count >= SMS_FACTOR_DISABLED_AFTER:
            return True
        return user.locked_until is not None and user.locked_until > self._now()

    def reset(self, db: Connection, user_id: int) -> None:
        """No failures, no lock: in the caller's transaction (a factor was shown)."""
        self._users.write(db, user_id, failed_otp_count=0, locked_until=None)

    def count_failure(self, user_id: int) -> None:
        """One more consecutive failure (a backup code: judged without a claim) and, from
        the threshold on, the lock, in one statement (a lock is audited in its transaction)."""
        now = self._now()
        count = col(User.failed_otp_count)
        threshold = self._settings.accounts.lockout_after
        with self._db() as db:
            failures = db.exec(
                update(User)
                .where(col(User.id) == user_id)
                .values(
                    failed_otp_count=count + 1,
                    locked_until=case(
                        (count + 1 >= threshold, self._lock_end(now, count + 1)),
                        else_=User.locked_until,
                    ),
                )
                .returning(count)
            ).scalar()
            if failures is not None and failures >= threshold:
                self._locked(db, user_id, failures, "backup-code")
            db.commit()

    def _db(self) -> Session:
        return db_session(self._db_url)

    def _claim_guess(self, user_id: int) -> bool:
        """Count a second-factor check as a failure before its code is judged, unless the
        account is locked or as many checks as the threshold allows are in flight: one
        conditional UPDATE, whose match decides.

        From the threshold on, a claim takes the only slot: it clears `locked_until` (the
        ended lock) and stamps `updated_at`, and the judgement sets the next lock. A claim
        whose process died is given up after `_CHECK_HOLD`.
        """
        now = self._now()
        threshold = self._settings.accounts.lockout_after
        count, until = col(User.failed_otp_count), col(User.locked_until)
        free = (until.is_not(None) & (until <= now)) | (
            until.is_(None) & ((count < threshold) | (col(User.updated_at) <= now - _CHECK_HOLD))
        )
        with self._db() as db:
            claimed = db.exec(
                update(User)
                .where(col(User.id) == user_id, count < SMS_FACTOR_DISABLED_AFTER, free)
                .values(
                    failed_otp_count=count + 1,
                    locked_until=case((count + 1 >= threshold, None), else_=until),
                    updated_at=now,
                )
            ).rowcount
            db.commit()
        return claimed == 1

    def _refusal(self, user_id: int) -> None:
        """Raise `RateLimited` when a claim was refused only because checks are in flight
        (nothing judged, nothing counted); return when the account is locked."""
        user = self._users.get(user_id)
        if self.locked(user) or user.locked_until is not None:
            return
        log.event("validate_refused", logging.WARNING, user_id=user_id, reason="checks-in-flight")
        raise RateLimited(1, "verify")

    def _judged_wrong(self, user_id: int) -> None:
        """A claimed check's code was wrong: from the threshold on, lock for a delay that
        doubles with each failure (in the statement; the count decides)."""
        now = self._now()
        with self._db() as db:
            threshold = self._settings.accounts.lockout_after
            failures = db.exec(
                update(User)
                .where(col(User.id) == user_id, col(User.failed_otp_count) >= threshold)
                .values(locked_until=self._lock_end(now, User.failed_otp_count))
                .returning(col(User.failed_otp_count))
            ).scalar()
            if failures is not None:
                self._locked(db, user_id, failures, "sms")
            db.commit()
        if failures is not None:
            log.event("account_locked", logging.WARNING, user_id=user_id)

    def _locked(self, db: Session, user_id: int, failures: int, factor: str) -> None:
        """A `lockout` event, in the transaction that sets the lock."""
        self._audit.record(
            db, AuditKind.LOCKOUT, user_id=user_id, outcome=factor, detail=f"{failures} failures"
        )

    def _lock_end(self, now: datetime, failures: Any) -> Any:
        """`locked_until` as SQL for an account with `failures` (at least the threshold):
        `now` plus the base delay, doubled per further failure, at most the maximum. The
        doublings before the maximum are few, each a bound value: no date arithmetic in SQL."""
        policy = self._settings.accounts
        base, longest = policy.lockout_base_seconds, policy.lockout_max_seconds
        lock_type = User.__table__.c.locked_until.type  # type: ignore[attr-defined]
        doublings: list[datetime] = []
        while base * 2 ** len(doublings) < longest:
            doublings.append(now + timedelta(seconds=base * 2 ** len(doublings)))
        longest_end = bindparam("lock_end_max", now + timedelta(seconds=longest), type_=lock_type)
        if not doublings:
            return longest_end
        beyond = failures - self._settings.accounts.lockout_after
        return case(
            *(
                (beyond == n, bindparam(f"lock_end_{n}", end, type_=lock_type))
                for n, end in enumerate(doublings)
            ),
            else_=longest_end,
        )

    def _refund_guess(self, user_id: int) -> None:
        """Give back the failure a claim counted for a check that was never judged (the
        provider was down, the flow had ended); a slot it held is free again."""
        count, until = User.failed_otp_count, User.locked_until
        ended = bindparam("ended", self._now(), type_=User.__table__.c.locked_until.type)  # type: ignore[attr-defined]
        with self._db() as db:
            db.exec(
                update(User)
                .where(col(User.id) == user_id, col(count) > 0)
                .values(
                    failed_otp_count=count - 1,
                    locked_until=case(
                        (col(until).is_(None) & (count - 1 >= self._settings.accounts.lockout_after), ended),
                        else_=until,
                    ),
                )
            )
            db.commit()
