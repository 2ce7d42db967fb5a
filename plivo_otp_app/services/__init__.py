"""The rules, written once, under both the UI and the JSON API.

One module per job: `verification` (codes to a number), `sessions` (sessions,
tickets, remembered devices), `users` (the account rows), `lockout` (the SMS
factor's failure counter), `backup_codes`, `signup`, `login`,
`account_changes` and `recovery` (a forgotten password). Each service gets
the others it needs in its constructor; `compose` is the one place that
wires them, and the getters below hand out the process's own. Every one
records its events in one audit trail (`audit.py`), the verification
service's unless `compose` is given another.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..audit import Audit
from ..config import Settings, get_settings
from ..errors import ServiceUnavailable
from ..passwords import verify_password
from ..providers import build_provider
from ..ratelimit import RateLimits
from .account_changes import AccountChanges, AccountView, SecurityEvent
from .backup_codes import BackupCodeRejected, BackupCodes
from .delivery import Delivery, DeliveryService, Reported
from .lockout import Lockout
from .login import LoginResult, LoginService
from .recovery import CodeChecked, RecoveryService
from .sessions import Redeemed, SessionService
from .signup import SignupResult, SignupService
from .users import Users
from .verification import Checked, Started, VerificationService, code_digits, utcnow

__all__ = [
    "AccountChanges",
    "AccountView",
    "BackupCodeRejected",
    "BackupCodes",
    "Checked",
    "CodeChecked",
    "Delivery",
    "DeliveryService",
    "Lockout",
    "LoginResult",
    "LoginService",
    "RecoveryService",
    "Redeemed",
    "Reported",
    "SecurityEvent",
    "Services",
    "SessionService",
    "SignupResult",
    "SignupService",
    "Started",
    "Users",
    "VerificationService",
    "code_digits",
    "compose",
    "get_account_changes",
    "get_backup_codes",
    "get_delivery_service",
    "get_login_service",
    "get_recovery_service",
    "get_services",
    "get_session_service",
    "get_signup_service",
    "get_users",
    "get_verification_service",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """One set of services on one database, each built on the others it needs."""

    verifications: VerificationService
    sessions: SessionService
    users: Users
    lockout: Lockout
    backup_codes: BackupCodes
    signups: SignupService
    logins: LoginService
    account_changes: AccountChanges
    recovery: RecoveryService
    audit: Audit


def compose(
    settings: Settings,
    verifications: VerificationService,
    sessions: SessionService,
    db_url: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    audit: Audit | None = None,
) -> Services:
    """The account services on `verifications` and `sessions`, wired to each other.

    The rate limits are the verification service's, so every check of an address or
    a name draws on the same counts; so is the audit trail, unless `audit` is given.
    """
    limits = verifications.limits
    audit = audit or verifications.audit
    users = Users(limits, db_url, clock)
    lockout = Lockout(settings, verifications, users, db_url, clock, audit)
    backup_codes = BackupCodes(limits, lockout, db_url, clock)
    return Services(
        verifications=verifications,
        sessions=sessions,
        users=users,
        lockout=lockout,
        backup_codes=backup_codes,
        signups=SignupService(settings, verifications, limits, users),
        logins=LoginService(
            settings, verifications, sessions, limits, users, lockout, backup_codes, db_url, clock, audit
        ),
        account_changes=AccountChanges(
            verifications, sessions, users, lockout, backup_codes, db_url, clock, audit
        ),
        recovery=RecoveryService(
            settings, verifications, sessions, limits, users, backup_codes, db_url, clock, audit
        ),
        audit=audit,
    )


def _built(build: Callable[[], T]) -> Callable[[], T]:
    """A cached service factory whose failure (settings, database, limit store) is an outage.

    The caller then answers with the outage sentence instead of a bare error; nothing
    is cached on failure, so the next call tries again once the cause is fixed.
    """
    cached = functools.cache(build)

    @functools.wraps(build)
    def get() -> T:
        try:
            return cached()
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"cannot build {build.__name__}: {type(exc).__name__}") from exc

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


@_built
def get_verification_service() -> VerificationService:
    """The process's verification service, built from the settings."""
    settings = get_settings()
    return VerificationService(settings, build_provider(settings), RateLimits(settings))


@_built
def get_delivery_service() -> DeliveryService:
    """The process's delivery callbacks and fallback, on its verification service."""
    verifications = get_verification_service()
    return DeliveryService(get_settings(), verifications, verifications.audit)


@_built
def get_session_service() -> SessionService:
    """The process's session service."""
    return SessionService(get_settings())


@_built
def get_services() -> Services:
    """The process's services, on its verification and session services.

    Builds the dummy password hash now, so the first login for an unknown name
    takes no longer than any other (no timing tell).
    """
    verify_password(None, "")
    return compose(get_settings(), get_verification_service(), get_session_service())


def get_users() -> Users:
    """The process's user rows."""
    return get_services().users


def get_backup_codes() -> BackupCodes:
    """The process's backup codes."""
    return get_services().backup_codes


def get_signup_service() -> SignupService:
    """The process's sign-up service."""
    return get_services().signups


def get_login_service() -> LoginService:
    """The process's login service."""
    return get_services().logins


def get_recovery_service() -> RecoveryService:
    """The process's password-reset service."""
    return get_services().recovery


def get_account_changes() -> AccountChanges:
    """The process's account-page service (2FA, phone, backup codes, the account view)."""
    return get_services().account_changes
