"""Plivo Verify session semantics, in memory, plus the outbox of delivered messages.

Follows `plivo-verify.md` §4: one session per recipient and app while it is in
progress and unexpired; a repeat create adds an attempt and re-delivers the
same code; codes of 4-8 digits from `secrets`; at most 10 validations.

Memory stays bounded: a session is forgotten `RETAIN_SECONDS` after it expires
(until then it answers as Plivo's would, `expired` or `verified`), at most
`MAX_SESSIONS` are kept (the oldest go first), and the outbox keeps the newest
`OUTBOX_SIZE` messages.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .faults import fault_for

MAX_VALIDATIONS = 10
MAX_DELIVERIES = 10
OUTBOX_SIZE = 1000
RETAIN_SECONDS = 3600
MAX_SESSIONS = 10_000


class SandboxError(Exception):
    """A refusal, answered with `status` and a Plivo-style error body."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Session:
    """One Verify session."""

    session_uuid: str
    app_uuid: str
    recipient: str
    code: str
    channel: str
    locale: str
    created_at: float
    expires_at: float
    status: str = "in-progress"
    validations: int = 0
    attempts: list[dict[str, object]] = field(default_factory=list)
    updated_at: float = 0.0
    brand_name: str | None = None


@dataclass(frozen=True)
class Message:
    """One delivered SMS or call, as the recipient would see or hear it."""

    recipient: str
    channel: str
    code: str
    text: str
    time: str
    #: The session's locale (the language the code's message was asked in); "" for a plain SMS.
    locale: str = ""


class SandboxStore:
    """Sessions and outbox of one sandbox; safe to share between threads."""

    def __init__(
        self,
        expiry_seconds: int = 600,
        default_code_length: int = 6,
        clock: Callable[[], float] = time.time,
        default_app_uuid: str = "00000000-0000-4000-8000-000000000000",
        webotp_host: str = "localhost",
    ) -> None:
        self.expiry_seconds = expiry_seconds
        #: The site the texts' last line binds the code to (`@host #code`, WebOTP).
        self.webotp_host = webotp_host
        self.default_code_length = default_code_length
        self.clock = clock
        self.default_app_uuid = default_app_uuid
        self._sessions: dict[str, Session] = {}
        self._latest: dict[tuple[str, str], Session] = {}  # (recipient, app) -> newest session
        self._outbox: deque[Message] = deque(maxlen=OUTBOX_SIZE)
        self._lock = threading.Lock()

    def create(
        self,
        recipient: str,
        channel: str = "sms",
        app_uuid: str | None = None,
        code_length: int | None = None,
        locale: str | None = None,
        brand_name: str | None = None,
    ) -> Session:
        """Start a session, or add a delivery attempt to the live one."""
        app = app_uuid or self.default_app_uuid
        length = code_length or self.default_code_length
        now = self.clock()
        with self._lock:
            self._forget_old(now)
            session = self._live_session(recipient, app, now)
            if session is None:
                session = Session(
                    session_uuid=str(uuid.uuid4()),
                    app_uuid=app,
                    recipient=recipient,
                    code=f"{secrets.randbelow(10**length):0{length}d}",
                    channel=channel,
                    locale=locale or "en",
                    created_at=now,
                    expires_at=now + self.expiry_seconds,
                    brand_name=brand_name,
                )
                self._sessions[session.session_uuid] = session
                self._latest[(recipient, app)] = session
            elif len(session.attempts) >= MAX_DELIVERIES:
                raise SandboxError(400, "maximum delivery attempts reached")
            session.channel = channel
            session.locale = locale or session.locale
            session.updated_at = now
            fault = fault_for(recipient)
            status = fault.sms_status if fault is not None and channel == "sms" else "delivered"
            session.attempts.append(
                {"attempt_uuid": str(uuid.uuid4()), "channel": channel, "status": status, "time": _iso(now)}
            )
            if status == "delivered":  # an undelivered text never reaches the outbox (the phone)
                self._outbox.appendleft(_message(session, now, self.webotp_host))
            return session

    def validate(self, session_uuid: str, otp: str | None) -> Session:
        """Check a code; raises `SandboxError` for every refusal."""
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_uuid)
            if session is None:
                raise SandboxError(404, "session not found")
            self._expire_if_due(session, now)
            if session.status == "expired":
                raise SandboxError(400, "session expired")
            if session.status == "verified":
                raise SandboxError(400, "session already verified")
            if session.validations >= MAX_VALIDATIONS:
                raise SandboxError(400, "maximum validation attempts reached")
            if not otp:
                raise SandboxError(400, "otp is required")
            session.validations += 1
            session.updated_at = now
            if not hmac.compare_digest(otp.encode(), session.code.encode()):
                raise SandboxError(400, "Invalid OTP")
            session.status = "verified"
            return session

    def get(self, session_uuid: str) -> Session:
        """A session by uuid, its status brought up to date."""
        with self._lock:
            session = self._sessions.get(session_uuid)
            if session is None:
                raise SandboxError(404, "session not found")
            self._expire_if_due(session, self.clock())
            return session

    def sessions(self) -> list[Session]:
        """Every session, newest first."""
        now = self.clock()
        with self._lock:
            for session in self._sessions.values():
                self._expire_if_due(session, now)
            return sorted(self._sessions.values(), key=lambda s: s.created_at, reverse=True)

    def expire(self, recipient: str) -> int:
        """Test hook: expire every live session of `recipient`; returns how many."""
        count = 0
        with self._lock:
            for session in self._sessions.values():
                if session.recipient == recipient and session.status == "in-progress":
                    session.status = "expired"
                    count += 1
        return count

    def deliver(self, recipient: str, text: str) -> None:
        """A plain SMS (Plivo Messaging), e.g. a security notice; it carries no code."""
        with self._lock:
            self._outbox.appendleft(
                Message(
                    recipient="+" + recipient.lstrip("+"),
                    channel="sms",
                    code="",
                    text=text,
                    time=_iso(self.clock()),
                )
            )

    def messages(self, recipient: str | None = None) -> list[Message]:
        """Delivered messages, newest first, optionally for one recipient."""
        with self._lock:
            return [m for m in self._outbox if recipient is None or m.recipient == recipient]

    def clear(self) -> None:
        """Forget every session and message."""
        with self._lock:
            self._sessions.clear()
            self._latest.clear()
            self._outbox.clear()

    def _forget_old(self, now: float) -> None:
        """Drop the sessions long expired, oldest first, and any over `MAX_SESSIONS`.

        Sessions are kept in creation order, which is also their expiry order.
        """
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.expires_at + RETAIN_SECONDS > now and len(self._sessions) < MAX_SESSIONS:
                return
            del self._sessions[oldest.session_uuid]
            key = (oldest.recipient, oldest.app_uuid)
            if self._latest.get(key) is oldest:
                del self._latest[key]

    def _live_session(self, recipient: str, app_uuid: str, now: float) -> Session | None:
        session = self._latest.get((recipient, app_uuid))
        if session is None:
            return None
        self._expire_if_due(session, now)
        return session if session.status == "in-progress" else None

    @staticmethod
    def _expire_if_due(session: Session, now: float) -> None:
        if session.status == "in-progress" and now >= session.expires_at:
            session.status = "expired"


def session_json(session: Session) -> dict[str, object]:
    """The §4.4 session object (without `api_id`)."""
    charge = 0.0055
    return {
        "session_uuid": session.session_uuid,
        "app_uuid": session.app_uuid,
        "alias": "sandbox",
        "recipient": session.recipient,
        "channel": session.channel,
        "locale": session.locale,
        "status": session.status,
        "count": len(session.attempts),
        "requestor_ip": "127.0.0.1",
        "destination_country_iso2": None,
        "destination_network": None,
        "attempt_details": session.attempts,
        "charges": {
            "total_charge": f"{charge * len(session.attempts):.5f}",
            "validation_charge": "0.00500" if session.status == "verified" else "0.00000",
            "attempt_charges": [
                {"attempt_uuid": a["attempt_uuid"], "channel": a["channel"], "charge": f"{charge:.5f}"}
                for a in session.attempts
            ],
        },
        "created_at": _iso(session.created_at),
        "updated_at": _iso(session.updated_at or session.created_at),
    }


def _message(session: Session, now: float, webotp_host: str) -> Message:
    """The text as the phone shows it. An SMS ends with its origin-bound line (`@host #code`):
    a browser's WebOTP API and the phone's autofill offer the code to that site only."""
    brand = f"{session.brand_name} " if session.brand_name else ""
    if session.channel == "voice":
        spoken = " ".join(session.code)
        text = f"Your {brand}verification code is {spoken}. Again: {spoken}."
    else:
        text = (
            f"Your {brand}verification code is {session.code}. Do not share it with anyone.\n\n"
            f"@{webotp_host} #{session.code}"
        )
    return Message(
        recipient="+" + session.recipient.lstrip("+"),
        channel=session.channel,
        code=session.code,
        text=text,
        time=_iso(now),
        locale=session.locale,
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
