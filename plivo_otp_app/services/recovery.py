"""A forgotten password: the username or email, a code to the account's verified phone, then a
new password (and, with two-factor login on, an unused backup code: a phone alone must not
take over an account).

Nobody may learn from it whether a name has an account. A name with no account, or one whose
phone is not verified, gets a decoy: a verification row like a real one, on a number made up
from the name, sent and checked by a provider that texts nobody and calls every code wrong.
The decoy goes through the same `VerificationService` code as a real flow, so its answers are
the same (the attempts left, the resend cooldown, expiry, the lock after too many wrong
codes); a real send that a limit or the provider refuses falls back to a decoy too, so no
limit on a number tells it apart. Each step of a decoy (and a locked account's check, which
asks no provider) lasts as long as one of the last real steps of its kind, drawn at random,
so the time an answer takes does not tell either (`bench/reset_timing.py` measures it). The
visible limits are the name's and the address's, counted like a login's.

The handle (`reset_token`) is the verification's id. Once its code is right, the reset is
completed within `RESET_MINUTES`: the verification is used up in the transaction that
changes the password, ends every session, remembered device and pending login of the
account (with 2FA on, the one that also uses up the backup code); the number then gets an
SMS notice.

A real reset's steps are audit events of the account (its sends, codes and `password_reset`);
a decoy's leave no row: a decoy is nobody's, and its time is padded to a real step's, audit
writes included. Nor does the pumping policy count or refuse a decoy (it texts nobody, and its
made-up numbers share one block a refusal would soon tell apart).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, Connection, update
from sqlmodel import Session, col, select

from .. import log, messages
from ..audit import Audit, AuditKind
from ..config import PumpingSettings, Settings
from ..db import session as db_session
from ..db import transaction
from ..enums import Channel, Purpose, Status
from ..errors import BackupCodeStartOver, InvalidInput, OtpError, ResetExpired
from ..models import PendingLogin, ProviderCode, Verification
from ..passwords import check_password, hash_password
from ..phone import Phone, mask, normalise
from ..providers import Outcome, VerifyProvider
from ..pumping import Pumping
from ..ratelimit import RateLimits
from .backup_codes import BackupCodes
from .lockout import Lockout
from .sessions import SessionService
from .users import Users, has_factor
from .verification import Started, VerificationService, utcnow

#: How long a right code lets the new password be set.
RESET_MINUTES = 10
#: How many recent real provider calls the decoy's waits are drawn from.
_SAMPLES = 20


@dataclass
class _Step:
    """A step being timed: `real` unless it fell back to a decoy."""

    real: bool = True


@dataclass(frozen=True)
class CodeChecked:
    """The reset's code was right: the new password may be set (with a backup code when 2FA is on)."""

    backup_code_required: bool


class _Timings:
    """How long a real account's answers took lately (each a whole step: the database, the
    provider), and how often the real provider was asked, for the decoy to take as long."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}
        #: Per thread: a step runs in one thread, and another's calls must not count as its own.
        self._local = threading.local()

    def record(self, step: str, seconds: float) -> None:
        with self._lock:
            self._seen.setdefault(step, deque(maxlen=_SAMPLES)).append(seconds)

    def one(self, step: str) -> float:
        """One of the recent durations of `step`, at random (so a decoy's spread is a real
        one's); 0 before the first."""
        with self._lock:
            seen = list(self._seen.get(step, ()))
        return random.choice(seen) if seen else 0.0

    def provider_asked(self) -> None:
        self._local.asked = self.asked() + 1

    def asked(self) -> int:
        """How many times this thread asked the real provider so far."""
        return getattr(self._local, "asked", 0)


class _CountedProvider:
    """The real provider, each send and check counted (a step that asked it is a real one's)."""

    def __init__(self, provider: VerifyProvider, timings: _Timings) -> None:
        self._provider = provider
        self._timings = timings

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        self._timings.provider_asked()
        return self._provider.send(recipient, channel, app_uuid, locale)

    def validate(self, session_id: str, code: str) -> Outcome:
        self._timings.provider_asked()
        return self._provider.validate(session_id, code)

    def status(self, session_id: str) -> str:
        return self._provider.status(session_id)

    def notify(self, source: str, recipient: str, text: str) -> None:
        self._provider.notify(source, recipient, text)


class _DecoyProvider:
    """Texts nobody and calls every code wrong, at once (the service pads the decoy's steps).

    Like the real one it re-delivers a number's live session (the same code) on a resend,
    so the wrong-guess cap counts as it does for a real code.
    """

    def __init__(self, db_url: str | None, clock: Callable[[], datetime]) -> None:
        self._db_url = db_url
        self._now = clock

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        with db_session(self._db_url) as db:
            live = db.exec(
                select(ProviderCode.provider_session_id)
                .where(ProviderCode.phone == recipient)
                .where(col(ProviderCode.expires_at) > self._now())
                .where(col(ProviderCode.attempts) < col(ProviderCode.max_attempts))
                .where(col(ProviderCode.provider_session_id).startswith("decoy-"))
            ).first()
        return live or f"decoy-{uuid.uuid4()}"

    def validate(self, session_id: str, code: str) -> Outcome:
        return Outcome.WRONG

    def status(self, session_id: str) -> str:
        return "in-progress"

    def notify(self, source: str, recipient: str, text: str) -> None:
        """Never called: a decoy has no account to tell."""


class _DecoyAudit(Audit):
    """Records nothing: a decoy's sends and codes are nobody's, and none is a send."""

    def record(self, db: Connection | Session, kind: AuditKind, **fields: Any) -> None:  # type: ignore[override]
        """A decoy's event is no event."""


class _DecoyLimits:
    """The real limits for checking codes; none for a decoy's sends (no SMS, nothing to count)."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    def check_send(self, phone: Phone, client_ip: str, account: int | None = None) -> None:
        """A decoy costs nothing to send."""

    def check_verify(self, client_ip: str) -> None:
        self._limits.check_verify(client_ip)


class RecoveryService:
    """Start, resend and check a password reset's code; then set the new password."""

    def __init__(
        self,
        settings: Settings,
        verifications: VerificationService,
        sessions: SessionService,
        limits: RateLimits,
        users: Users,
        backup_codes: BackupCodes,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        audit: Audit | None = None,
    ) -> None:
        self._settings = settings
        self._notices = verifications
        self._audit = audit or verifications.audit
        self._sessions = sessions
        self._limits = limits
        self._users = users
        self._backup_codes = backup_codes
        self._db_url = db_url
        self._now = clock
        self._timings = _Timings()
        # The same rules on the same tables: one service texts the account, one texts nobody.
        self._real = VerificationService(
            settings,
            _CountedProvider(verifications.provider, self._timings),
            limits,
            db_url,
            clock,
            audit=self._audit,
        )
        # The account's lockout (its counter is the account row's), checking through that service.
        self._lockout = Lockout(settings, self._real, users, db_url, clock)
        unrecorded = _DecoyAudit(settings.audit, db_url, clock)
        self._decoys = VerificationService(
            settings,
            _DecoyProvider(db_url, clock),
            _DecoyLimits(limits),  # type: ignore[arg-type]
            db_url,
            clock,
            pumping=Pumping(_unpoliced(settings.pumping), db_url, unrecorded),
            audit=unrecorded,
        )

    def start(self, identifier: object, client_ip: str) -> Started:
        """Send a code to the verified phone of the account named `identifier` (username or email).

        The answer is the same whether or not there is such an account: a `Started` naming
        no number, whose `verification_id` is the reset's handle.
        """
        name = identifier.strip().casefold()[:254] if isinstance(identifier, str) else ""
        if not name or not name.isprintable():  # no account has a NUL or a lone surrogate
            raise InvalidInput(messages.LOGIN_NAME_UNUSABLE)
        # Counted by the name as typed, known or not, like a login.
        self._limits.check_login(client_ip, name)
        with self._timed("start") as step:
            user = self._users.find(name)
            try:
                if user is not None and user.is_phone_verified and user.phone_number:
                    purpose = Purpose.RESET_PASSWORD
                    started = self._real.start_to_account(user, Channel.SMS, client_ip, purpose)
                else:
                    started = self._start_decoy(_decoy_number(name, self._settings), client_ip)
            except OtpError as exc:
                # A limit on the number, or the provider, refused: say nothing of it (it would
                # tell that the name has a number); a decoy answers instead, with no code.
                log.event("reset_send_hidden", error=type(exc).__name__, ip=client_ip)
                started = self._start_decoy(_decoy_number(uuid.uuid4().hex, self._settings), client_ip)
                step.real = False
        log.event("reset_started", user_id=user.id if user else None, ip=client_ip)
        return _unnamed(started)

    def resend(self, reset_token: object, channel: object, client_ip: str) -> Started:
        """Send the reset's code again (or by voice); a fresh one once it is dead."""
        with self._timed("resend"):
            service, user_id = self._flow(reset_token)
            started = service.renew(reset_token, channel, client_ip, Purpose.RESET_PASSWORD, user_id)
        return _unnamed(started)

    def check_code(self, reset_token: object, code: object, client_ip: str) -> CodeChecked:
        """Check the reset's code under the account's lockout; a decoy's is always wrong."""
        with self._timed("check"):
            service, user_id = self._flow(reset_token)
            if user_id is None:
                service.check(reset_token, code, client_ip, Purpose.RESET_PASSWORD, None)
                raise AssertionError("a decoy's code is never right")
            user = self._users.get(user_id)
            self._lockout.check_code(user, reset_token, code, client_ip, Purpose.RESET_PASSWORD)
        log.event("reset_code_ok", user_id=user_id)
        return CodeChecked(backup_code_required=has_factor(user))

    def complete(
        self, reset_token: object, new_password: object, backup_code: object, client_ip: str
    ) -> None:
        """Set the new password of a reset whose code was right (with 2FA on, and an unused backup
        code); every session, remembered device and pending login of the account ends.

        Raises:
            ResetExpired: No right code is behind `reset_token` (or it was used, or timed out).
        """
        user = self._users.get(self._verified(reset_token))
        assert user.id is not None
        user_id, flow = user.id, str(reset_token)
        password = check_password(
            new_password,
            min_length=self._settings.accounts.password_min_length,
            username=user.username,
            email=user.email or "",
        )
        password_hash = hash_password(password)

        def change(db: Connection) -> None:
            used = db.execute(
                update(Verification).where(*self._live_reset(flow)).values(status=Status.USED)
            ).rowcount
            if used != 1:
                raise ResetExpired("reset already completed")
            self._users.write(db, user_id, password_hash=password_hash)
            self._audit.record(db, AuditKind.PASSWORD_RESET, user_id=user_id, address=client_ip)
            self._sessions.end_all(user_id, db=db)
            self._sessions.revoke_devices(user_id, db=db)
            db.execute(
                update(PendingLogin)
                .where(col(PendingLogin.user_id) == user_id)
                .where(col(PendingLogin.completed_at).is_(None))
                .values(expires_at=self._now())
            )

        if has_factor(user):
            try:
                self._backup_codes.redeem(user, backup_code, client_ip, change, lambda: self._end(flow))
            except BackupCodeStartOver:  # a wrong one while the factor is locked: the reset is over
                raise ResetExpired("wrong backup code while locked") from None
        else:
            with transaction(self._db_url) as db:
                change(db)
        if user.phone_number:
            self._notices.notify(user.phone_number, messages.say(messages.PASSWORD_CHANGED_NOTICE))
        log.event("password_reset", user_id=user_id, phone=mask(user.phone_number or ""))

    @contextmanager
    def _timed(self, step: str) -> Iterator[_Step]:
        """Time a step (whatever it answers): a real one's time is noted when it asked the
        provider; any other (a decoy's, a real one refused before the provider, as for a locked
        account) takes as long as one of the recent real ones."""
        began, asked = time.perf_counter(), self._timings.asked()
        timed = _Step()
        try:
            yield timed
        finally:
            took = time.perf_counter() - began
            if timed.real and self._timings.asked() > asked:
                self._timings.record(step, took)
            else:
                time.sleep(max(0.0, self._timings.one(step) - took))

    def _start_decoy(self, number: str, client_ip: str) -> Started:
        return self._decoys.start(
            number, self._settings.otp.default_country, Channel.SMS, client_ip, Purpose.RESET_PASSWORD
        )

    def _flow(self, reset_token: object) -> tuple[VerificationService, int | None]:
        """The service a reset's flow is on (the real one, or the decoys'), and its account."""
        if not isinstance(reset_token, str) or len(reset_token) != 36:
            raise ResetExpired("no such reset")
        with self._db() as db:
            row = db.get(Verification, reset_token)
        if row is None or row.purpose != Purpose.RESET_PASSWORD:
            raise ResetExpired("no such reset")
        return (self._real if row.user_id is not None else self._decoys), row.user_id

    def _verified(self, reset_token: object) -> int:
        """The account of a reset whose code was right, within `RESET_MINUTES`."""
        if not isinstance(reset_token, str) or len(reset_token) != 36:
            raise ResetExpired("no such reset")
        with self._db() as db:
            user_id = db.exec(select(Verification.user_id).where(*self._live_reset(reset_token))).first()
        if user_id is None:
            raise ResetExpired("no verified reset")
        return user_id

    def _live_reset(self, reset_token: str) -> tuple[ColumnElement[bool], ...]:
        since = self._now() - timedelta(minutes=RESET_MINUTES)
        return (
            col(Verification.id) == reset_token,
            col(Verification.purpose) == Purpose.RESET_PASSWORD,
            col(Verification.user_id).is_not(None),
            col(Verification.status) == Status.VERIFIED,
            col(Verification.verified_at) > since,
        )

    def _end(self, reset_token: str) -> None:
        with self._db() as db:
            db.exec(
                update(Verification)
                .where(col(Verification.id) == reset_token)
                .where(col(Verification.status) == Status.VERIFIED)
                .values(status=Status.EXPIRED)
            )
            db.commit()

    def _db(self) -> Session:
        return db_session(self._db_url)


def _unpoliced(policy: PumpingSettings) -> PumpingSettings:
    """The pumping policy with every rule off, for the decoys: a decoy costs nothing, and its
    numbers share one block that is never verified, so the watch would soon flag it and refuse
    every name with no account while a name with one still got its code."""
    return dataclasses.replace(
        policy,
        range_unverified=0,
        block_unverified=0,
        country_unverified=0,
        hourly_budget=0.0,
        daily_budget=0.0,
        country_hourly_budget=0.0,
        country_daily_budget=0.0,
        country_budgets=(),
        high_risk_countries=frozenset(),
    )


def _unnamed(started: Started) -> Started:
    """What a reset tells about its send: no number (not even masked)."""
    return replace(started, e164="", masked="")


def _decoy_number(seed: str, settings: Settings) -> str:
    """A valid mobile number of the default country, the same for the same seed (a name), made
    from its hash: the decoy's flows for one name supersede and lock each other as a real
    account's do. Never texted."""
    region = settings.otp.default_country
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        example = phonenumbers.example_number(region)
    assert example is not None
    national = str(example.national_number)
    free = min(6, len(national) - 3)
    digest = hashlib.sha256(f"reset-decoy:{seed}".encode()).hexdigest()
    for start in range(0, len(digest) - 8, 8):
        tail = str(int(digest[start : start + 8], 16) % 10**free).zfill(free)
        candidate = f"+{example.country_code}{national[:-free]}{tail}"
        try:
            return normalise(candidate, region, Channel.SMS, settings.otp.allowed_countries).e164
        except OtpError:
            continue
    return f"+{example.country_code}{national}"
