"""Database tables. Times are aware UTC datetimes (SQLModel normalises them on every engine)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Verification(SQLModel, table=True):
    """One OTP flow: a number, the provider's session and what happened to it.

    `id` is the opaque handle given to the client (the API's `session_uuid`);
    the provider's own session id never leaves the server.
    """

    id: str = Field(primary_key=True, max_length=36)
    purpose: str = Field(default="verify", max_length=20)
    phone: str = Field(index=True, max_length=16)
    channel: str = Field(max_length=8)
    provider_session_id: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=12, index=True)
    attempts: int = 0
    max_attempts: int = 5
    sends: int = 1
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime
    expires_at: datetime
    next_send_at: datetime
    verified_at: datetime | None = None
