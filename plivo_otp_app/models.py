"""Database tables. Times are aware UTC datetimes (SQLModel normalises them on every engine).

Secrets (session tokens, tickets, remembered-device tokens, backup codes) are
stored only as hashes; passwords only as Argon2id hashes.

Every table, index and constraint name starts with `otp_` (`ix_otp_...`, `uq_otp_...`), so the
tables sit beside a host app's own (its `user` table and `ix_user_username` index) in one
database. They are built by the package's migrations (`plivo_otp_app/migrations/`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, Table, text
from sqlmodel import Field, SQLModel


def _table_name(name: str) -> Any:
    """A table's name for `__tablename__`: SQLAlchemy takes a plain string there, but SQLModel
    types the attribute as the `declared_attr` its own default is, which no string matches."""
    return name


class User(SQLModel, table=True):
    """An account. `username` is the canonical form of the name (`usernames.py`), unique and
    what is compared; `display_username` the name as the user typed it, for screens. `email`
    is stored case-folded."""

    __tablename__ = _table_name("otp_user")

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    display_username: str = Field(max_length=64)
    email: str | None = Field(default=None, unique=True, index=True, max_length=254)
    password_hash: str = Field(max_length=255)
    phone_number: str | None = Field(default=None, index=True, max_length=16)
    is_phone_verified: bool = False
    two_factor_enabled: bool = False
    failed_otp_count: int = 0
    locked_until: datetime | None = None
    #: "user", or "admin" for an operator (`/admin`; made by `python -m plivo_otp_app admin create`).
    role: str = Field(default="user", max_length=16, sa_column_kwargs={"server_default": "user"})
    created_at: datetime
    updated_at: datetime


class AuthSession(SQLModel, table=True):
    """A signed-in browser or API client; the token itself is never stored."""

    __tablename__ = _table_name("otp_auth_session")

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="otp_user.id", index=True)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    revoked_at: datetime | None = None


class LoginTicket(SQLModel, table=True):
    """A one-time, short-lived ticket the browser that logged in redeems for its session cookie."""

    __tablename__ = _table_name("otp_login_ticket")

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="otp_user.id", index=True)
    remember_device: bool = False
    landing: str = Field(default="/account", max_length=255)
    #: The hash of the browser cookie of the browser that earned it; only that browser redeems it.
    browser_hash: str | None = Field(default=None, max_length=64)
    expires_at: datetime
    used_at: datetime | None = None


class PendingLogin(SQLModel, table=True):
    """Password accepted, second factor pending: grants nothing by itself."""

    __tablename__ = _table_name("otp_pending_login")

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="otp_user.id", index=True)
    verification_id: str | None = Field(default=None, max_length=36)
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None


class BackupCode(SQLModel, table=True):
    """One single-use recovery code (hashed)."""

    __tablename__ = _table_name("otp_backup_code")

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="otp_user.id", index=True)
    code_hash: str = Field(index=True, max_length=64)
    created_at: datetime
    used_at: datetime | None = None


class TrustedDevice(SQLModel, table=True):
    """A browser that may skip the SMS step until it expires or is revoked."""

    __tablename__ = _table_name("otp_trusted_device")

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="otp_user.id", index=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    label: str = Field(default="", max_length=255)
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class Verification(SQLModel, table=True):
    """One OTP flow: a number, the provider's session and what happened to it.

    `id` is the opaque handle given to the client (the API's `session_uuid`);
    the provider's own session id never leaves the server. A verification is
    bound to its purpose and (except for the anonymous page) to its user.
    `status` is `sending` (recorded, provider not yet answered: inert), then
    `pending`, and finally `verified`, `superseded`, `expired` or `failed`.

    Every send asks "is this number locked?" and supersedes the number's pending
    flow: both look rows up by (phone, status). Nothing looks them up by user
    alone, and with a `user_id` index SQLite chose it for `user_id IS NULL` and
    walked every anonymous row (2.4 ms per send at 26,000 rows).

    At most one flow is `pending` per (phone, purpose, user): two partial unique
    indexes (a NULL user never collides in a unique index, so anonymous flows
    have their own) make a concurrent start that would leave a second one fail,
    and the start then supersedes the winner instead.
    """

    __tablename__ = _table_name("otp_verification")

    __table_args__ = (
        Index("ix_otp_verification_phone_status", "phone", "status", "expires_at"),
        Index(
            "uq_otp_verification_one_pending_per_user",
            "phone",
            "purpose",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND user_id IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND user_id IS NOT NULL"),
        ),
        Index(
            "uq_otp_verification_one_pending_anonymous",
            "phone",
            "purpose",
            unique=True,
            sqlite_where=text("status = 'pending' AND user_id IS NULL"),
            postgresql_where=text("status = 'pending' AND user_id IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    purpose: str = Field(default="verify", max_length=20)
    user_id: int | None = Field(default=None, foreign_key="otp_user.id")
    phone: str = Field(max_length=16)
    channel: str = Field(max_length=8)
    provider_session_id: str = Field(max_length=64, index=True)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    max_attempts: int = 5
    sends: int = 1
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime
    expires_at: datetime
    next_send_at: datetime
    verified_at: datetime | None = None


class ProviderCode(SQLModel, table=True):
    """One code the provider delivered: its session, which Plivo re-delivers (same code) to
    the same recipient while it lives, whichever flow, purpose or user asks for it.

    The wrong-guess cap is counted here, once for every verification that points at the
    session, so the guesses against one code never exceed `max_attempts` in total.
    `expires_at` is the code's life as the app configures it (`OTP_EXPIRY_SECONDS` from
    the first send); a code that used up its attempts blocks new sends to `phone` until then.
    """

    __tablename__ = _table_name("otp_provider_code")

    provider_session_id: str = Field(primary_key=True, max_length=64)
    phone: str = Field(max_length=16)
    attempts: int = 0
    max_attempts: int = 5
    created_at: datetime
    expires_at: datetime

    __table_args__ = (Index("ix_otp_provider_code_phone_expires_at", "phone", "expires_at"),)


class SendTally(SQLModel, table=True):
    """Counts per group and time bucket for the pumping and cost policy (`pumping.py`).

    One row per (scope, key, bucket start): the conversion watch's sends and verified
    sends per number range, block and country (`scope` "range", "block", "country"; short
    buckets summed over a sliding window), the estimated spend per clock hour and day,
    globally (`key` "*") and per country (`scope` "spend-hour", "spend-day"), and the
    refusals by reason ("refused") and by flagged group ("flagged"). Money is in
    millionths of the price table's currency, so sums are exact.
    """

    __tablename__ = _table_name("otp_send_tally")

    scope: str = Field(primary_key=True, max_length=12)
    key: str = Field(primary_key=True, max_length=24)
    bucket: datetime = Field(primary_key=True)
    sends: int = 0
    verified: int = 0
    spent: int = Field(default=0, sa_type=BigInteger)


class AuditEvent(SQLModel, table=True):
    """One security-relevant event (`audit.py`), written in the transaction of what it records.

    A number is kept only masked (`+1******2671`) and as a keyed hash of its E.164
    (`phone_hash`), which groups a number's events without storing it in clear twice;
    `range_key` is the E.164 without its last 4 digits. Money is in millionths, like the
    send tally. Rows older than `AUDIT_RETENTION_DAYS` are purged (`audit purge`).
    """

    __tablename__ = _table_name("otp_audit_event")

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    kind: str = Field(max_length=32)
    user_id: int | None = Field(default=None)
    phone_masked: str = Field(default="", max_length=24)
    phone_hash: str = Field(default="", max_length=64)
    country: str = Field(default="", max_length=2)
    range_key: str = Field(default="", max_length=16)
    channel: str = Field(default="", max_length=8)
    address: str = Field(default="", max_length=64)
    provider_session_id: str = Field(default="", max_length=64)
    outcome: str = Field(default="", max_length=32)
    error_code: str = Field(default="", max_length=48)
    cost: int = Field(default=0, sa_type=BigInteger)
    detail: str = Field(default="", max_length=255)

    __table_args__ = (
        Index("ix_otp_audit_event_kind_at", "kind", "at"),
        Index("ix_otp_audit_event_user_id_at", "user_id", "at"),
        Index("ix_otp_audit_event_phone_hash_at", "phone_hash", "at"),
        Index("ix_otp_audit_event_country_at", "country", "at"),
        Index("ix_otp_audit_event_provider_session_id", "provider_session_id"),
    )


class GroupFlag(SQLModel, table=True):
    """An operator's decision about one watched group (`pumping.py`), until a time.

    `scope` is "range", "block" or "country" and `key` the group (`+1415555`, `+14155`, `US`).
    `action` "lift" exempts the group from the conversion watch until `until`; "block" refuses
    every send to it until then (an extended block). Written from `/admin`, audited there.
    """

    __tablename__ = _table_name("otp_group_flag")

    scope: str = Field(primary_key=True, max_length=12)
    key: str = Field(primary_key=True, max_length=24)
    action: str = Field(max_length=8)
    until: datetime = Field(index=True)
    by_user_id: int | None = Field(default=None)
    at: datetime


class AuditKey(SQLModel, table=True):
    """The installation's key for `AuditEvent.phone_hash` when `AUDIT_HASH_KEY` is not set:
    made once, at random, by the first writer (one row, `id` 1)."""

    __tablename__ = _table_name("otp_audit_key")

    id: int = Field(primary_key=True)
    key: str = Field(max_length=64)


class ChallengeKey(SQLModel, table=True):
    """The installation's key for the challenges' signatures when `CHALLENGE_HMAC_KEY` is not
    set: made once, at random, by the first writer (one row, `id` 1), so every worker shares it."""

    __tablename__ = _table_name("otp_challenge_key")

    id: int = Field(primary_key=True)
    key: str = Field(max_length=64)


class SpentChallenge(SQLModel, table=True):
    """A solved challenge already presented (the SHA-256 of its signature): a second one is
    refused. Kept until the challenge would have expired anyway."""

    __tablename__ = _table_name("otp_challenge_spent")

    id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)


class CallbackNonce(SQLModel, table=True):
    """A signed provider callback's nonce, seen once (`callbacks.py`): the same nonce again is a
    replay. Written in the transaction that stores what the callback reported, so a callback
    that failed to be stored can be retried with its nonce; kept until the callback would be stale."""

    __tablename__ = _table_name("otp_callback_nonce")

    nonce: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(index=True)


class DeliveryReport(SQLModel, table=True):
    """One delivery status the provider reported for one attempt of a session (`services/delivery.py`).

    The key (attempt, status) makes a retried callback a no-op: a status is stored, and
    audited, once per attempt however often the provider sends it.
    """

    __tablename__ = _table_name("otp_delivery_report")

    attempt_uuid: str = Field(primary_key=True, max_length=64)
    status: str = Field(primary_key=True, max_length=32)
    provider_session_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=8)
    error_code: str = Field(default="", max_length=48)
    at: datetime


class ChannelFallback(SQLModel, table=True):
    """The one fallback a provider session gets (an undelivered SMS re-sent by voice): the
    primary key makes it once, across workers."""

    __tablename__ = _table_name("otp_channel_fallback")

    provider_session_id: str = Field(primary_key=True, max_length=64)
    verification_id: str = Field(max_length=36)
    at: datetime


#: The migrations' own version table (`plivo_otp_app.migrations`), declared here too: a host app's
#: `reflex db makemigrations` compares SQLModel's metadata with the database, with no filter, and
#: would otherwise write a `drop_table` of it into the host's history.
VERSION_TABLE = Table(
    "otp_alembic_version",
    SQLModel.metadata,
    Column("version_num", String(32), primary_key=True),
)
