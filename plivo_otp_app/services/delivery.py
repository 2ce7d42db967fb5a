"""Delivery reports from the provider, and the channel fallback an undelivered SMS leads to.

`report` stores one signed callback (`callbacks.py` checked its signature and age): its
nonce, once (the same nonce again is a replay, refused), its status per attempt, once (a
retry of a stored status is a no-op), and the audit row, all in one transaction: a
callback that could not be stored has consumed nothing and can be sent again.

An SMS reported undelivered or failed lets the verification sent it fall back to a voice
call of the same code, once per provider session (`otp_channel_fallback`'s key, across
workers): offered on the code step (`OTP_FALLBACK=offer`, `fallback_state` and
`call_instead`) or made when the report comes (`call`). The call is a resend by voice
without the resend cooldown (the text never came), through every send limit and the
pumping and cost policy.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import log
from ..audit import Audit, AuditKind
from ..config import Settings
from ..db import autocommit, transaction
from ..enums import Channel, Purpose, Status
from ..errors import OtpError
from ..models import CallbackNonce, ChannelFallback, DeliveryReport, Verification
from ..phone import mask
from .verification import Started, VerificationService, utcnow

#: The SMS statuses after which the code did not reach the phone.
UNDELIVERED = frozenset({"undelivered", "failed"})
#: Flows that never fall back: a password reset for a name with no account runs a decoy flow
#: whose texts nobody reports on, so an offer (or "we are calling you") would tell a real
#: account with an unreachable phone apart from no account.
NO_FALLBACK = frozenset({Purpose.RESET_PASSWORD})

_nonces = CallbackNonce.__table__  # type: ignore[attr-defined]
_reports = DeliveryReport.__table__  # type: ignore[attr-defined]
_fallbacks = ChannelFallback.__table__  # type: ignore[attr-defined]
_flows = Verification.__table__  # type: ignore[attr-defined]


class Reported(enum.Enum):
    """What became of one callback."""

    RECORDED = "recorded"
    #: The status of this attempt was stored before (the provider's retry): nothing new.
    DUPLICATE = "duplicate"
    #: The nonce was seen before: a replay, refused.
    REPLAYED = "replayed"


@dataclass(frozen=True)
class Delivery:
    """One delivery status of one attempt, as a signed callback reported it."""

    session_uuid: str
    attempt_uuid: str
    channel: str
    status: str
    error_code: str
    #: The recipient as the callback names it, E.164 ("" when it names none).
    recipient: str
    #: When the provider says it sent the callback (`RequestTime`, signed).
    request_time: datetime


def _insert_once(db: Connection, table: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when this call inserted it (told by `RETURNING`:
    psycopg's row count of an `ON CONFLICT DO NOTHING` is not to be relied on)."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values).on_conflict_do_nothing()
    key = next(iter(table.primary_key.columns))
    return db.execute(statement.returning(key)).first() is not None


class DeliveryService:
    """Stores delivery callbacks and runs the fallback they allow."""

    def __init__(
        self,
        settings: Settings,
        verifications: VerificationService,
        audit: Audit,
        db_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.verifications = verifications
        self.audit = audit
        self._db_url = db_url
        self.clock = clock

    @property
    def max_age(self) -> timedelta:
        """How old a callback may be; its nonce is kept that long (an older one is refused as stale)."""
        return timedelta(seconds=self.settings.provider.plivo.callback_max_age_seconds)

    def report(self, delivery: Delivery, nonce: str) -> Reported:
        """Store one signed callback, once per nonce and once per attempt and status."""
        now = self.clock()
        with transaction(self._db_url) as db:
            # A nonce older than the oldest callback still taken can go: its replay is stale.
            db.execute(delete(_nonces).where(_nonces.c.seen_at < now - 2 * self.max_age))
            if not _insert_once(db, _nonces, {"nonce": nonce, "seen_at": now}):
                log.event("callback_refused", logging.WARNING, reason="replayed")
                return Reported.REPLAYED
            stored = _insert_once(
                db,
                _reports,
                {
                    "attempt_uuid": delivery.attempt_uuid,
                    "status": delivery.status,
                    "provider_session_id": delivery.session_uuid,
                    "channel": delivery.channel,
                    "error_code": delivery.error_code,
                    "at": now,
                },
            )
            flow = self._flow_of_session(db, delivery.session_uuid)
            if stored:
                self.audit.record(
                    db,
                    AuditKind.DELIVERY_STATUS,
                    phone=flow.phone if flow is not None else delivery.recipient,
                    user_id=flow.user_id if flow is not None else None,
                    channel=delivery.channel,
                    provider_session_id=delivery.session_uuid,
                    outcome=delivery.status,
                    error_code=delivery.error_code,
                    detail=f"attempt {delivery.attempt_uuid}",
                )
        phone = mask(flow.phone if flow is not None else delivery.recipient)
        log.event(
            "delivery_status",
            phone=phone,
            channel=delivery.channel,
            status=delivery.status,
            error_code=delivery.error_code or None,
            duplicate=not stored or None,
            known=flow is not None,
        )
        undelivered = delivery.channel == Channel.SMS and delivery.status in UNDELIVERED
        if stored and undelivered and flow is not None and self.settings.otp.fallback == "call":
            self._call_at_once(flow)
        return Reported.RECORDED if stored else Reported.DUPLICATE

    def fallback_state(self, verification_id: str) -> str:
        """For the code step's poll: "offer" while a voice call may stand in for an undelivered
        SMS of this verification, "called" once the fallback was made, else "".

        With `OTP_FALLBACK=call` the call is made as the report comes; a report that came
        before the send was recorded (the flow was not known yet) is offered instead.
        """
        if self.settings.otp.fallback == "off" or not verification_id:
            return ""
        with autocommit(self._db_url) as db:
            flow = db.execute(select(_flows).where(_flows.c.id == verification_id)).first()
            if flow is None or flow.status != Status.PENDING or not flow.provider_session_id:
                return ""
            if flow.purpose in NO_FALLBACK:
                return ""
            session = flow.provider_session_id
            if db.execute(select(exists().where(_fallbacks.c.provider_session_id == session))).scalar():
                return "called"
            failed = exists().where(
                _reports.c.provider_session_id == session,
                _reports.c.channel == Channel.SMS,
                _reports.c.status.in_(sorted(UNDELIVERED)),
            )
            return "offer" if db.execute(select(failed)).scalar() else ""

    def call_instead(self, verification_id: str, client_ip: str) -> Started | None:
        """The offered fallback, asked for on the code step: the same code by voice, once.

        None when there is none to make (not offered, or made already). The caller has
        checked that the step is the flow's (its binding); the verification id is the
        tab's own, never the client's.
        """
        if self.fallback_state(verification_id) != "offer":
            return None
        with autocommit(self._db_url) as db:
            flow = db.execute(select(_flows).where(_flows.c.id == verification_id)).first()
        if flow is None or not self._claim(flow, "offer"):
            return None
        return self._call(flow, client_ip)

    def _call_at_once(self, flow: Row[Any]) -> None:
        """`OTP_FALLBACK=call`: the voice call as the report comes; a refusal is logged, not raised
        (the report is stored: the provider must not retry it)."""
        if flow.status != Status.PENDING or flow.purpose in NO_FALLBACK or not self._claim(flow, "call"):
            return
        try:
            self._call(flow, flow.client_ip)
        except OtpError as exc:
            log.event("fallback_failed", logging.WARNING, phone=mask(flow.phone), error=type(exc).__name__)

    def _claim(self, flow: Row[Any], how: str) -> bool:
        """Take the session's one fallback, audited in the same transaction; False if it was taken."""
        with transaction(self._db_url) as db:
            values = {
                "provider_session_id": flow.provider_session_id,
                "verification_id": flow.id,
                "at": self.clock(),
            }
            if not _insert_once(db, _fallbacks, values):
                return False
            self.audit.record(
                db,
                AuditKind.CHANNEL_FALLBACK,
                phone=flow.phone,
                user_id=flow.user_id,
                channel=Channel.VOICE,
                address=flow.client_ip,
                provider_session_id=flow.provider_session_id,
                outcome=how,
            )
        return True

    def _call(self, flow: Row[Any], client_ip: str) -> Started:
        started = self.verifications.resend(
            flow.id, Channel.VOICE, client_ip, flow.purpose, flow.user_id, cooldown=False
        )
        log.event("fallback_sent", phone=mask(flow.phone), channel=Channel.VOICE)
        return started

    @staticmethod
    def _flow_of_session(db: Connection, session_uuid: str) -> Row[Any] | None:
        """The newest verification the provider session was sent for, if it is ours."""
        query = (
            select(_flows)
            .where(_flows.c.provider_session_id == session_uuid)
            .order_by(_flows.c.created_at.desc())
            .limit(1)
        )
        return db.execute(query).first()
