"""Phone verification, written once for the UI and the JSON API.

One call per user intent: `start`, `resend`, `check`. Each validates its input,
applies the limits, records the send it is about to make, calls the provider,
records the outcome and returns or raises a typed error. A send is written
before the provider is called, so a database that cannot be written costs no
SMS. The calls block (provider HTTP, database); callers run them off the event
loop.

Single use and the wrong-code cap are enforced with conditional UPDATEs whose
row counts decide, so they hold under concurrency on SQLite and PostgreSQL
(the statements are in `verification_sql`). The cap is per delivered code: every
flow that the provider answered with the same session (the same code) draws on
one count, so no mix of flows, purposes or users gets more guesses at a code.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from .. import log, messages
from ..audit import Audit, AuditKind
from ..challenge import Challenges
from ..config import Settings
from ..db import autocommit, transaction
from ..db import session as db_session
from ..enums import Purpose, Status
from ..errors import (
    CodeRejected,
    InvalidInput,
    NoAttemptsLeft,
    OtpError,
    ProviderUnavailable,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
)
from ..models import User
from ..phone import Phone, check_channel, check_country, mask, normalise
from ..providers import Outcome, VerifyProvider
from ..pumping import Admission, Pumping, Sender
from ..ratelimit import RateLimits
from ..translations import PLIVO_LOCALES, current_language
from . import verification_sql as sql

_SEPARATORS = re.compile(r"[\s-]+")


def code_digits(code: object, length: int) -> str | None:
    """The `length` ASCII digits of a code as typed or pasted; spaces and dashes, as an SMS
    shows a code ("117 763", "117-763"), are dropped. None when it is not such a code."""
    digits = _SEPARATORS.sub("", code[: length * 4]) if isinstance(code, str) else ""
    return digits if re.fullmatch(f"[0-9]{{{length}}}", digits) else None


#: Codes to an account's own verified phone, asked for only after its password or in its
#: session. They count against the account's own send limit, and with a second Verify
#: application (`PLIVO_ACCOUNT_APP_UUID`) they are other codes than anyone else's to the
#: number, so what strangers do to the number (sends, wrong guesses) neither uses up nor
#: locks them. Every other flow (the public page, sign-up, a new number) is one anyone
#: can start for any number.
OWNER_PURPOSES = frozenset({Purpose.LOGIN, Purpose.ENABLE_2FA, Purpose.DISABLE_2FA})
#: Tries of a send's settle against concurrent starts of the same flow (see `_settle_send`).
#: Sends no challenge holds: a password reset's code goes to an account's verified phone (no
#: number the asker picks), and a held reset could not be told from a decoy's, so it would
#: silently send nothing. The watch's refusals, the budgets and the limits still apply.
UNCHALLENGED_PURPOSES = frozenset({Purpose.RESET_PASSWORD})
_SETTLE_TRIES = 50
_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Started:
    """A code is on its way."""

    verification_id: str
    e164: str
    masked: str
    channel: str
    expires_in: int
    resend_after: int


@dataclass(frozen=True)
class Checked:
    """The code was right; the number is verified."""

    verification_id: str
    e164: str
    masked: str
    purpose: str = Purpose.VERIFY
    user_id: int | None = None


def utcnow() -> datetime:
    """Aware UTC now; SQLModel stores it as UTC on SQLite and PostgreSQL alike."""
    return datetime.now(UTC)


class VerificationService:
    """Start, resend and check phone verifications."""

    def __init__(
        self,
        settings: Settings,
        provider: VerifyProvider,
        limits: RateLimits,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        pumping: Pumping | None = None,
        challenges: Challenges | None = None,
        audit: Audit | None = None,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.limits = limits
        #: The audit trail every account service records in (`compose` hands it on).
        self.audit = audit or Audit(settings.audit, db_url, clock)
        self.pumping = pumping or Pumping(settings.pumping, db_url, self.audit)
        self.challenges = challenges or Challenges(settings, db_url)
        self._db_url = db_url
        self._now = clock

    def start(
        self,
        raw_phone: object,
        country: object,
        channel: object,
        client_ip: str,
        purpose: str = Purpose.VERIFY,
        user_id: int | None = None,
        challenge: object = None,
    ) -> Started:
        """Send a first code to a number typed by the user.

        `purpose` and `user_id` bind the verification: only a check that names
        the same purpose and user can use it. `challenge` is the client's answer to a
        challenge (`issue_challenge`), taken once, which a risky send needs.

        Raises:
            ChallengeRequired: The pumping policy wants a solved challenge first.
        """
        channel = check_channel(channel)
        country = check_country(country, self.settings.otp.allowed_countries)
        phone = normalise(raw_phone, country, channel, self.settings.otp.allowed_countries)
        now = self._now()
        owner = _owner(purpose, user_id)
        sender = Sender(channel, client_ip, user_id)
        try:
            self._ensure_not_locked(phone.e164, now, owner is not None)
            solved = self._solved(phone, now, owner is not None, client_ip, challenge, purpose)
            self.limits.check_send(phone, client_ip, owner)
        except RateLimited as exc:
            self._limited(phone.e164, sender, exc)
            raise
        record = {
            "id": str(uuid.uuid4()),
            "purpose": purpose,
            "user_id": user_id,
            "phone": phone.e164,
            "channel": channel,
            "max_attempts": self.settings.otp.max_attempts,
            "sends": 1,
            "client_ip": client_ip[:64],
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.settings.otp.expiry_seconds),
            "next_send_at": now + timedelta(seconds=self._cooldown(1)),
            "verified_at": None,
        }

        def reserve(db: Connection) -> None:
            sql.reserve(db, record)
            self._record(db, AuditKind.SEND_REQUESTED, phone.e164, sender, detail=purpose)

        # Recorded before the paid send, in the transaction that admits and counts it: a
        # database that cannot take the row stops here, with no code sent and nothing counted.
        admission = self.pumping.admit(
            phone,
            now,
            new_flow=True,
            owner=owner is not None,
            then=reserve,
            address=client_ip,
            solved=solved,
            sender=sender,
            challengeable=purpose not in UNCHALLENGED_PURPOSES,
        )
        log.event("send_requested", phone=phone.masked, channel=channel, ip=client_ip)
        try:
            session_id = self._send(phone.e164, channel, owner is not None)
        except Exception as exc:
            self._failed(record["id"], phone.e164, sender, admission, exc)  # and drop the reserved row
            self._give_back_spend(admission, exc)
            raise
        self._settle_send(record, session_id, sender, admission.cost)
        log.event("sent", phone=phone.masked, channel=channel, sends=1)
        return self._started(record, now)

    def start_to_account(self, user: User, channel: object, client_ip: str, purpose: str) -> Started:
        """Send a code for `purpose` to the number stored on the account (already E.164)."""
        return self.start(
            user.phone_number, self.settings.otp.default_country, channel, client_ip, purpose, user.id
        )

    def resend(
        self,
        verification_id: object,
        channel: object,
        client_ip: str,
        purpose: str = Purpose.VERIFY,
        user_id: int | None = None,
        challenge: object = None,
        cooldown: bool = True,
    ) -> Started:
        """Send the code again (same code, maybe another channel) after the cooldown.

        The slot (the count and the doubled cooldown) is claimed atomically first, so
        parallel resends send once; when a limit or the provider refuses, nothing was
        sent and the slot is given back. A provider that timed out may have delivered,
        so that slot stays spent (the send limits counted it too). `cooldown=False` (the
        fallback of an undelivered SMS, `services/delivery.py`) sends before the cooldown
        ends; the slot is still claimed, so a concurrent resend sends once.
        """
        channel = check_channel(channel)
        record = self._load(verification_id, purpose, user_id)
        now = self._now()
        self._ensure_open(record, now)
        # The number rules again, for the channel asked now: a landline reached
        # by voice cannot switch to SMS.
        phone = normalise(record.phone, self.settings.otp.default_country, channel)
        sender = Sender(channel, client_ip, record.user_id)
        if cooldown and now < record.next_send_at:
            waiting = RateLimited((record.next_send_at - now).total_seconds(), "resend-cooldown")
            self._limited(record.phone, sender, waiting)
            raise waiting
        next_send_at = now + timedelta(seconds=self._cooldown(record.sends + 1))
        claim_at = now if cooldown else max(now, record.next_send_at)
        with self._autocommit() as db:
            claimed = sql.claim_resend(db, record.id, channel, claim_at, next_send_at)
        if not claimed:
            waiting = RateLimited(self.settings.otp.resend_cooldown_seconds, "resend-cooldown")
            self._limited(record.phone, sender, waiting)
            raise waiting
        owner = _owner(record.purpose, record.user_id)
        admission: Admission | None = None

        def requested(db: Connection) -> None:
            self._record(db, AuditKind.SEND_REQUESTED, record.phone, sender, detail=record.purpose)

        try:
            solved = self._solved(phone, now, owner is not None, client_ip, challenge, record.purpose)
            self.limits.check_send(phone, client_ip, owner)
            admission = self.pumping.admit(
                phone,
                now,
                new_flow=False,
                owner=owner is not None,
                then=requested,
                address=client_ip,
                solved=solved,
                sender=sender,
                challengeable=record.purpose not in UNCHALLENGED_PURPOSES,
            )
            log.event("send_requested", phone=phone.masked, channel=channel, ip=client_ip, resend=True)
            session_id = self._send(record.phone, channel, owner is not None)
        except ProviderUnavailable as exc:
            # A timeout may have delivered: the slot and the spend stay spent.
            self._failed(None, record.phone, sender, admission, exc)
            raise
        except OtpError as exc:
            self._give_back_resend(record)  # refused before anything was sent
            if isinstance(exc, RateLimited):
                self._limited(record.phone, sender, exc)
            elif admission is not None:  # the provider refused (a policy refusal audits itself)
                self._failed(None, record.phone, sender, admission, exc)
            if admission is not None:
                self._give_back_spend(admission, exc)
            raise
        assert admission is not None
        with self._transaction() as db:
            record = sql.set_provider_session(db, record.id, session_id) or record
            self._record(
                db,
                AuditKind.SEND_SENT,
                record.phone,
                sender,
                provider_session_id=session_id,
                cost=admission.cost,
                detail=record.purpose,
            )
        log.event("sent", phone=phone.masked, channel=channel, sends=record.sends)
        return self._started(record._asdict(), now)

    def renew(
        self,
        verification_id: object,
        channel: object,
        client_ip: str,
        purpose: str = Purpose.VERIFY,
        user_id: int | None = None,
        challenge: object = None,
    ) -> Started:
        """Send the code again while the verification is open; once it expired or used up its
        attempts, start a fresh one to the same number (for the same purpose and user).

        The fresh start applies every rule of a first send: the send limits, and the wait
        until a code that used up its attempts has expired.
        """
        record = self._load(verification_id, purpose, user_id)
        try:
            self._ensure_open(record, self._now())
        except (VerificationExpired, TooManyAttempts):
            if record.status in (Status.VERIFIED, Status.SUPERSEDED):
                raise
            country = self.settings.otp.default_country
            return self.start(record.phone, country, channel, client_ip, purpose, user_id, challenge)
        return self.resend(verification_id, channel, client_ip, purpose, user_id, challenge)

    def check(
        self,
        verification_id: object,
        code: object,
        client_ip: str,
        purpose: str = Purpose.VERIFY,
        user_id: int | None = None,
        then: Callable[[Connection], None] | None = None,
    ) -> Checked:
        """Check a code; succeeds at most once per verification.

        `then` is the change the right code allows: it runs in the transaction that marks
        the verification verified, so either both commit or neither does (the code can
        then be entered again).
        """
        code = self._check_code_format(code)
        self.limits.check_verify(client_ip)
        now = self._now()
        record = self._claim_attempt(verification_id, purpose, user_id, now)
        try:
            outcome = self.provider.validate(record.provider_session_id, code)
        except ProviderUnavailable:
            with self._transaction() as db:
                sql.refund_attempt(db, record.id)
            raise
        return self._settle(record, outcome, now, client_ip, then)

    def ensure_open(self, verification_id: object, purpose: str, user_id: int | None) -> None:
        """Raise unless the verification is live for this purpose and user (it can take a code)."""
        self._ensure_open(self._load(verification_id, purpose, user_id), self._now())

    def vouch(self, db: Connection, verification_id: str) -> None:
        """Mark an open verification verified in the caller's transaction, with no code:
        another factor (a backup code) stood in for it.

        Raises:
            VerificationExpired: It was no longer pending (used once).
        """
        if not sql.mark_verified(db, verification_id, self._now()):
            raise VerificationExpired("already used")

    def end(self, verification_id: str) -> None:
        """End a pending verification: its code is refused from now on."""
        self._close(verification_id, Status.EXPIRED)

    def refuse(
        self, verification_id: object, code: object, client_ip: str, purpose: str, user_id: int | None
    ) -> NoReturn:
        """Answer exactly as for a wrong code, counting the attempt, without asking the provider.

        For a locked account: a right code must neither succeed nor look different.
        """
        self._check_code_format(code)
        self.limits.check_verify(client_ip)
        now = self._now()
        record = self._claim_attempt(verification_id, purpose, user_id, now)
        self._settle(record, Outcome.WRONG, now, client_ip)
        raise AssertionError("a wrong code always raises")

    def notify(self, recipient: str, text: str) -> bool:
        """Send a plain SMS (a security notice) where a sender number is configured; never raises."""
        source = self.settings.provider.sms_source
        if source is None:
            log.event("notify_skipped", phone=mask(recipient), reason="no PLIVO_SMS_SOURCE")
            return False
        try:
            self.provider.notify(source, recipient, text)
        except OtpError as exc:
            log.event("notify_failed", logging.WARNING, phone=mask(recipient), error=type(exc).__name__)
            return False
        log.event("notified", phone=mask(recipient))
        return True

    def _settle(
        self,
        record: Row[Any],
        outcome: Outcome,
        now: datetime,
        client_ip: str,
        then: Callable[[Connection], None] | None = None,
    ) -> Checked:
        """Record what the provider said about a code; the attempt is already counted.

        Its audit event goes with what it changes: a right code's with the verification
        (and `then`), a last wrong one's with closing the flow, any other in its own.
        """
        masked = mask(record.phone)
        attempts = record.attempts
        sender = Sender(record.channel, client_ip, record.user_id)
        if outcome is Outcome.VALID:
            try:
                with self._transaction() as db:
                    verified = sql.mark_verified(db, record.id, now)
                    if verified:
                        self._record(db, AuditKind.CODE_VERIFIED, record.phone, sender, **_session(record))
                    if verified and then is not None:
                        then(db)
            except Exception:
                # Nothing was committed, but the provider has used the code up: the flow
                # goes on with a fresh one ("Send a new code").
                self._discard_used(record.id)
                raise
            if verified:
                self.pumping.verified(record.phone, record.created_at)
                log.event("validate_ok", phone=masked, attempts=attempts)
                return Checked(record.id, record.phone, masked, record.purpose, record.user_id)
            log.event("validate_failed", phone=masked, reason="already-used")
            self._code_failed(record, sender, "already-used")
            raise VerificationExpired("already used")
        if outcome is Outcome.WRONG:
            left = max(0, record.max_attempts - attempts)
            log.event("validate_failed", phone=masked, reason="wrong-code", attempts_left=left)
            if left == 0:
                self._code_failed(record, sender, "wrong", close=Status.FAILED, detail="no attempts left")
                raise TooManyAttempts("attempts used up", _seconds_until(record.expires_at, now))
            self._code_failed(record, sender, "wrong", detail=f"{left} attempts left")
            raise CodeRejected(left)
        self._code_failed(
            record, sender, outcome.value, close=Status.EXPIRED if outcome is Outcome.EXPIRED else None
        )
        log.event("validate_failed", phone=masked, reason=outcome.value)
        raise VerificationExpired(outcome.value)

    def _settle_send(self, record: dict[str, Any], session_id: str, sender: Sender, cost: int) -> None:
        """Make the sent flow the one pending for its number, purpose and user.

        A new flow supersedes the old one, so no earlier challenge stays valid on its
        own. A concurrent start that went pending meanwhile fails this one on the
        one-pending index; the next try supersedes it (each failure means another
        start settled, so this ends).
        """
        sent = {"provider_session_id": session_id, "cost": cost, "detail": record["purpose"]}
        for _ in range(_SETTLE_TRIES - 1):
            try:
                with self._transaction() as db:
                    sql.settle_send(db, record, session_id)
                    self._record(db, AuditKind.SEND_SENT, record["phone"], sender, **sent)
                return
            except IntegrityError:
                continue
        with self._transaction() as db:
            sql.settle_send(db, record, session_id)
            self._record(db, AuditKind.SEND_SENT, record["phone"], sender, **sent)

    def _solved(
        self, phone: Phone, now: datetime, owner: bool, client_ip: str, challenge: object, purpose: str
    ) -> bool:
        """Whether the client presented a right answer to a challenge (taken now); without one,
        a send the pumping policy finds risky is held before the rate limits count it (never
        one of `UNCHALLENGED_PURPOSES`).

        Raises:
            ChallengeRequired: No right answer, and the send needs one.
        """
        if purpose in UNCHALLENGED_PURPOSES:
            return False
        if challenge and self.challenges.redeem(challenge, now):
            return True
        self.pumping.hold_if_risky(phone, now, owner=owner, address=client_ip)
        return False

    def _ensure_not_locked(self, e164: str, now: datetime, owner: bool) -> None:
        """Refuse, without a paid send, while a code that used up its attempts is still live.

        The provider re-delivers the same code until its session expires, so a
        new send before then could only deliver a code already guessed at. Only
        the flows sharing that code are held: with a second Verify application an
        account owner's codes are apart, and a code strangers burnt holds only theirs.
        """
        purposes = OWNER_PURPOSES if self.settings.provider.account_app_uuid else None
        with self._autocommit() as db:
            locked_until = sql.locked_until(db, e164, now, purposes, among=owner)
        if locked_until is not None:
            log.event("limited", scope="verification-locked", phone=mask(e164))
            raise RateLimited((locked_until - now).total_seconds(), "verification-locked")

    def _send(self, e164: str, channel: str, owner: bool) -> str:
        """Send a code; an owner's through the account Verify application, where one is set."""
        try:
            app_uuid = self.settings.provider.account_app_uuid if owner else None
            return self.provider.send(e164, channel, app_uuid, PLIVO_LOCALES[current_language()])
        except OtpError as exc:
            log.event(
                "send_failed", logging.WARNING, phone=mask(e164), channel=channel, error=type(exc).__name__
            )
            raise

    def _give_back_spend(self, admission: Admission, exc: Exception) -> None:
        """Give an admitted send back to the pumping policy when the provider surely sent nothing.

        A provider that timed out may have delivered: that send stays counted and spent.
        """
        if not isinstance(exc, ProviderUnavailable):
            self.pumping.give_back(admission)

    def _give_back_resend(self, record: Row[Any]) -> None:
        """Undo a claimed resend slot (its count, cooldown and channel) when nothing was sent."""
        try:
            with self._autocommit() as db:
                sql.give_back_resend(db, record.id, record.sends + 1, record.next_send_at, record.channel)
        except SQLAlchemyError as exc:
            log.event("give_back_failed", logging.WARNING, error=type(exc).__name__)

    def _failed(
        self,
        verification_id: str | None,
        e164: str,
        sender: Sender,
        admission: Admission | None,
        exc: Exception,
    ) -> None:
        """A `send_failed` event (with the spend when a timeout may have delivered), written with
        the discard of the reserved row the provider did not make, when there is one (best
        effort: that row is left `sending`, inert, and logged if it fails)."""
        spent = admission.cost if admission is not None and isinstance(exc, ProviderUnavailable) else 0
        error = exc.code if isinstance(exc, OtpError) else type(exc).__name__
        try:
            with self._transaction() as db:
                if verification_id is not None:
                    sql.discard(db, verification_id)
                self._record(db, AuditKind.SEND_FAILED, e164, sender, error_code=error, cost=spent)
        except SQLAlchemyError as failure:
            log.event("discard_failed", logging.WARNING, error=type(failure).__name__)

    def _limited(self, e164: str, sender: Sender, limited: RateLimited) -> None:
        """A `send_limited` event: a rate limit refused a send (nothing else is written)."""
        self._record_alone(AuditKind.SEND_LIMITED, e164, sender, outcome=limited.scope)

    def _code_failed(
        self, record: Row[Any], sender: Sender, reason: str, close: Status | None = None, detail: str = ""
    ) -> None:
        """A `code_failed` event; with `close`, in the transaction that ends the flow."""
        fields = _session(record) | {"outcome": reason}
        if detail:
            fields["detail"] = f"{record.purpose}: {detail}"
        if close is None:
            self._record_alone(AuditKind.CODE_FAILED, record.phone, sender, **fields)
            return
        with self._transaction() as db:
            sql.close(db, record.id, close)
            self._record(db, AuditKind.CODE_FAILED, record.phone, sender, **fields)

    def _record(self, db: Connection, kind: AuditKind, e164: str, sender: Sender, **fields: Any) -> None:
        """One audit event about a send or a code to `e164`, in the caller's transaction."""
        self.audit.record(
            db,
            kind,
            phone=e164,
            user_id=sender.user_id,
            channel=sender.channel,
            address=sender.address,
            **fields,
        )

    def _record_alone(self, kind: AuditKind, e164: str, sender: Sender, **fields: Any) -> None:
        """An audit event that goes with no other write, in its own transaction (best effort:
        a trail that cannot be written must not turn a refusal into an outage; logged)."""
        try:
            with self._transaction() as db:
                self._record(db, kind, e164, sender, **fields)
        except SQLAlchemyError as exc:
            log.event("audit_failed", logging.WARNING, kind=str(kind), error=type(exc).__name__)

    def _discard_used(self, verification_id: str) -> None:
        """Close a verification whose code the provider used up though our change failed
        (best effort: the database may be what failed)."""
        try:
            self._close(verification_id, Status.EXPIRED)
        except SQLAlchemyError as exc:
            log.event("close_failed", logging.WARNING, error=type(exc).__name__)

    def _claim_attempt(
        self, verification_id: object, purpose: str, user_id: int | None, now: datetime
    ) -> Row[Any]:
        """Count one attempt atomically, on the flow's code, in one transaction; the row as
        counted (so its attempts are ours, not raised meanwhile by a concurrent check). When
        nothing could be counted, raise the error that says why."""
        if not isinstance(verification_id, str) or not _ID_PATTERN.fullmatch(verification_id):
            raise VerificationExpired("unknown verification")
        with self._transaction() as db:
            claimed = sql.claim_attempt(db, verification_id, purpose, user_id, now)
        if claimed is not None:
            return claimed
        record = self._load(verification_id, purpose, user_id)
        self._ensure_open(record, now)
        raise NoAttemptsLeft("attempts used up", _seconds_until(record.expires_at, now))

    def _close(self, verification_id: str, status: Status) -> None:
        with self._autocommit() as db:
            sql.close(db, verification_id, status)

    def _ensure_open(self, record: Row[Any], now: datetime) -> None:
        """Raise the error that fits a verification that can take no more codes."""
        if record.status == Status.FAILED or (
            record.status == Status.PENDING and record.attempts >= record.max_attempts
        ):
            raise NoAttemptsLeft("attempts used up", _seconds_until(record.expires_at, now))
        if record.status != Status.PENDING:
            raise VerificationExpired(record.status)
        if now >= record.expires_at:
            self._close(record.id, Status.EXPIRED)
            raise VerificationExpired("expired")

    def _load(self, verification_id: object, purpose: str, user_id: int | None) -> Row[Any]:
        """The verification, if it exists for this purpose and user; unknown otherwise."""
        if not isinstance(verification_id, str) or not _ID_PATTERN.fullmatch(verification_id):
            raise VerificationExpired("unknown verification")
        with self._autocommit() as db:
            record = sql.get(db, verification_id)
        if record is None or record.purpose != purpose or record.user_id != user_id:
            raise VerificationExpired("unknown verification")
        return record

    def _check_code_format(self, code: object) -> str:
        """The code's digits (`code_digits`), or a sentence saying how many there must be."""
        length = self.settings.otp.code_length
        digits = code_digits(code, length)
        if digits is None:
            raise InvalidInput(messages.enter_code_of_length(length), field="code")
        return digits

    def _cooldown(self, sends: int) -> int:
        """Seconds before the next send: the base cooldown doubling with each send."""
        base = self.settings.otp.resend_cooldown_seconds
        return min(base * 2 ** max(0, sends - 1), self.settings.otp.resend_cooldown_max_seconds)

    def _started(self, record: dict[str, Any], now: datetime) -> Started:
        return Started(
            verification_id=record["id"],
            e164=record["phone"],
            masked=mask(record["phone"]),
            channel=record["channel"],
            expires_in=max(0, int((record["expires_at"] - now).total_seconds())),
            resend_after=max(0, int((record["next_send_at"] - now).total_seconds() + 0.999)),
        )

    def _transaction(self) -> AbstractContextManager[Connection]:
        return transaction(self._db_url)

    def _autocommit(self) -> AbstractContextManager[Connection]:
        """For one statement, atomic by itself: no BEGIN/COMMIT round trips."""
        return autocommit(self._db_url)

    def issue_challenge(self) -> dict[str, Any]:
        """A new challenge for a client to solve before a risky send (`Challenges.issue`)."""
        return self.challenges.issue(self._now())

    def check_database(self) -> None:
        """Raise unless the database can be written (for the health check)."""
        with self._transaction() as db:
            sql.probe_write(db)

    def db(self) -> Session:
        """An ORM session on this service's database."""
        return db_session(self._db_url)


def _owner(purpose: str, user_id: int | None) -> int | None:
    """The account whose own verified phone a code of `purpose` goes to; None for a code
    anyone can ask for (the limits then count the address, number and number block)."""
    return user_id if purpose in OWNER_PURPOSES else None


def _session(record: Row[Any]) -> dict[str, str]:
    """What a code's audit event says of its flow: the provider session and the purpose."""
    return {"provider_session_id": record.provider_session_id, "detail": record.purpose}


def _seconds_until(moment: datetime, now: datetime) -> float:
    """Seconds from `now` to `moment`, never negative."""
    return max(0.0, (moment - now).total_seconds())
