"""One typed settings object, read from the environment (and a `.env` file).

Every variable is validated when the settings are loaded; a bad value raises
`ConfigError` naming the variable, so a misconfigured deployment fails at start
rather than on the first user.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import phonenumbers
from dotenv import load_dotenv
from limits import parse_many
from limits.storage import SCHEMES, MovingWindowSupport

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Credentials the embedded sandbox accepts; they are never real Plivo credentials.
SANDBOX_AUTH_ID = "MASANDBOX00000000000"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - a public test value
#: The sandbox's second Verify application, for codes to an account's own verified phone.
SANDBOX_ACCOUNT_APP_UUID = "00000000-0000-4000-8000-00000000acc7"

PROVIDERS = ("plivo", "sandbox")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Reverse proxies whose X-Forwarded-* headers are believed by default: this host only.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1"


class ConfigError(ValueError):
    """A configuration variable is missing or has a bad value."""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    provider: str
    plivo_auth_id: str
    plivo_auth_token: str
    plivo_app_uuid: str | None
    plivo_api_base_url: str | None
    plivo_brand_name: str | None
    plivo_locale: str | None
    plivo_callback_url: str | None
    plivo_connect_timeout: float
    plivo_read_timeout: float
    code_length: int
    otp_expiry_seconds: int
    max_attempts: int
    resend_cooldown_seconds: int
    resend_cooldown_max_seconds: int
    rate_limit_storage_url: str
    send_limits_per_number: str
    send_limits_per_ip: str
    send_limits_per_prefix: str
    verify_limits_per_ip: str
    default_country: str
    allowed_countries: frozenset[str]
    log_level: str
    sandbox_hang_seconds: float
    password_min_length: int = 15
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    pending_login_minutes: int = 10
    remember_device_days: int = 30
    lockout_after: int = 10
    lockout_base_seconds: int = 30
    lockout_max_seconds: int = 3600
    login_limits_per_ip: str = "20/5minutes"
    login_limits_per_account: str = "10/15minutes"
    send_limits_per_account: str = "5/10minutes;20/day"
    plivo_account_app_uuid: str | None = None
    sms_source_number: str | None = None
    send_limits_fail_open: bool = False
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: float = 5.0
    worker_threads: int = 8
    trusted_proxies: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1"),
    )

    @property
    def is_sandbox(self) -> bool:
        """Whether the embedded Plivo-compatible sandbox is the provider."""
        return self.provider == "sandbox"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _number(
    env: Mapping[str, str],
    name: str,
    default: T,
    cast: Callable[[str], T],
    low: float,
    high: float,
) -> T:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:  # type: ignore[operator]
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _limits(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _get(env, name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be rate limits such as '3/10minutes;5/hour', got {raw!r}") from None
    return raw


def _country(name: str, code: str) -> str:
    code = code.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{name} must be ISO 3166 country codes, got {code!r}")
    return code


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (_get(env, name) or "0").lower()
    if raw not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
    return raw in ("1", "true", "yes")


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = _get(env, name)
    if raw is not None and not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {raw!r}")
    return raw.rstrip("/") if raw else None


def _storage_url(env: Mapping[str, str], name: str) -> str:
    """A `limits` storage URL the moving-window limiter can use; checked without connecting.

    The message names the scheme only: the URL may carry a password.
    """
    raw = _get(env, name) or "memory://"
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    usable = sorted(s for s, cls in SCHEMES.items() if issubclass(cls, MovingWindowSupport))
    if scheme not in usable:
        raise ConfigError(
            f"{name} must start with one of {', '.join(f'{s}://' for s in usable)}, got {scheme!r}"
        )
    needs = SCHEMES[scheme].DEPENDENCIES
    if needs and not any(importlib.util.find_spec(module.split(".")[0]) for module in needs):
        raise ConfigError(f"{name} {scheme}:// needs the {' or '.join(needs)} package")
    return raw


def _networks(env: Mapping[str, str], name: str, default: str) -> tuple[Network, ...]:
    raw = _get(env, name) or default
    try:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    except ValueError:
        message = f"{name} must be addresses or networks such as '10.0.0.0/8,::1', got {raw!r}"
        raise ConfigError(message) from None


def _provider(env: Mapping[str, str]) -> tuple[str, str, str]:
    auth_id = _get(env, "PLIVO_AUTH_ID") or ""
    auth_token = _get(env, "PLIVO_AUTH_TOKEN") or ""
    has_credentials = bool(auth_id or auth_token)
    chosen = _get(env, "OTP_PROVIDER")
    if chosen is None and not has_credentials and (_get(env, "REFLEX_ENV_MODE") or "").lower() == "prod":
        # A production secret that failed to load must not turn into a public outbox of codes.
        raise ConfigError(
            "OTP_PROVIDER is not set and there are no Plivo credentials: in production set "
            "PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, or OTP_PROVIDER=sandbox to serve the sandbox, "
            "whose outbox shows every code to anyone"
        )
    provider = (chosen or ("plivo" if has_credentials else "sandbox")).lower()
    if provider not in PROVIDERS:
        raise ConfigError(f"OTP_PROVIDER must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    if provider == "plivo":
        if not auth_id or not auth_token:
            raise ConfigError("PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN must be set when OTP_PROVIDER=plivo")
        if len(auth_id) != 20 or not auth_id.startswith(("MA", "SA")):
            raise ConfigError("PLIVO_AUTH_ID must be a 20-character id starting with MA or SA")
        return provider, auth_id, auth_token
    if has_credentials and not _flag(env, "SANDBOX_FORCE"):
        raise ConfigError(
            "OTP_PROVIDER=sandbox refuses to run while PLIVO_AUTH_ID/PLIVO_AUTH_TOKEN are set; "
            "unset them or set SANDBOX_FORCE=1"
        )
    return provider, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings.

    Args:
        env: The variables to read; the process environment (after loading `.env`)
            when omitted.

    Returns:
        The validated settings.

    Raises:
        ConfigError: A variable is missing or invalid; the message names it.
    """
    if env is None:
        load_dotenv(override=False)
        env = os.environ
    provider, auth_id, auth_token = _provider(env)
    cooldown = _number(env, "OTP_RESEND_COOLDOWN_SECONDS", 30, int, 1, 3600)
    allowed = _get(env, "ALLOWED_COUNTRIES")
    log_level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    settings = Settings(
        provider=provider,
        plivo_auth_id=auth_id,
        plivo_auth_token=auth_token,
        plivo_app_uuid=_get(env, "PLIVO_APP_UUID"),
        plivo_api_base_url=_url(env, "PLIVO_API_BASE_URL"),
        plivo_brand_name=_get(env, "PLIVO_BRAND_NAME"),
        plivo_locale=_get(env, "PLIVO_LOCALE"),
        plivo_callback_url=_url(env, "PLIVO_CALLBACK_URL"),
        plivo_connect_timeout=_number(env, "PLIVO_CONNECT_TIMEOUT", 3.0, float, 0.1, 60),
        plivo_read_timeout=_number(env, "PLIVO_READ_TIMEOUT", 5.0, float, 0.1, 60),
        code_length=_number(env, "OTP_CODE_LENGTH", 6, int, 4, 8),
        otp_expiry_seconds=_number(env, "OTP_EXPIRY_SECONDS", 300, int, 30, 600),
        max_attempts=_number(env, "OTP_MAX_ATTEMPTS", 5, int, 1, 10),
        resend_cooldown_seconds=cooldown,
        resend_cooldown_max_seconds=_number(
            env, "OTP_RESEND_COOLDOWN_MAX_SECONDS", 1800, int, cooldown, 86400
        ),
        rate_limit_storage_url=_storage_url(env, "RATE_LIMIT_STORAGE_URL"),
        send_limits_per_number=_limits(env, "RATE_LIMIT_SEND_PER_NUMBER", "3/10minutes;5/hour;10/day"),
        send_limits_per_ip=_limits(env, "RATE_LIMIT_SEND_PER_IP", "10/hour"),
        send_limits_per_prefix=_limits(env, "RATE_LIMIT_SEND_PER_PREFIX", "10/hour"),
        verify_limits_per_ip=_limits(env, "RATE_LIMIT_VERIFY_PER_IP", "30/5minutes"),
        default_country=_country("DEFAULT_COUNTRY", _get(env, "DEFAULT_COUNTRY") or "US"),
        allowed_countries=frozenset(_country("ALLOWED_COUNTRIES", c) for c in allowed.split(",") if c.strip())
        if allowed
        else frozenset(),
        log_level=log_level,
        sandbox_hang_seconds=_number(env, "SANDBOX_HANG_SECONDS", 10.0, float, 0, 120),
        password_min_length=_number(env, "PASSWORD_MIN_LENGTH", 15, int, 8, 64),
        session_idle_minutes=_number(env, "SESSION_IDLE_MINUTES", 30, int, 1, 1440),
        session_absolute_hours=_number(env, "SESSION_ABSOLUTE_HOURS", 12, int, 1, 720),
        pending_login_minutes=_number(env, "PENDING_LOGIN_MINUTES", 10, int, 1, 10),
        remember_device_days=_number(env, "REMEMBER_DEVICE_DAYS", 30, int, 1, 365),
        lockout_after=_number(env, "OTP_LOCKOUT_AFTER", 10, int, 1, 100),
        lockout_base_seconds=_number(env, "OTP_LOCKOUT_SECONDS", 30, int, 1, 86400),
        lockout_max_seconds=_number(env, "OTP_LOCKOUT_MAX_SECONDS", 3600, int, 1, 86400),
        login_limits_per_ip=_limits(env, "RATE_LIMIT_LOGIN_PER_IP", "20/5minutes"),
        login_limits_per_account=_limits(env, "RATE_LIMIT_LOGIN_PER_ACCOUNT", "10/15minutes"),
        send_limits_per_account=_limits(env, "RATE_LIMIT_SEND_PER_ACCOUNT", "5/10minutes;20/day"),
        plivo_account_app_uuid=_get(env, "PLIVO_ACCOUNT_APP_UUID")
        or (SANDBOX_ACCOUNT_APP_UUID if provider == "sandbox" else None),
        sms_source_number=_get(env, "PLIVO_SMS_SOURCE"),
        send_limits_fail_open=_flag(env, "RATE_LIMIT_SENDS_FAIL_OPEN"),
        db_pool_size=_number(env, "DB_POOL_SIZE", 5, int, 1, 200),
        db_max_overflow=_number(env, "DB_MAX_OVERFLOW", 10, int, 0, 200),
        db_pool_timeout=_number(env, "DB_POOL_TIMEOUT", 5.0, float, 0.1, 120),
        worker_threads=_number(env, "WORKER_THREADS", 8, int, 1, 256),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES),
    )
    if (
        settings.plivo_account_app_uuid is not None
        and settings.plivo_account_app_uuid == settings.plivo_app_uuid
    ):
        raise ConfigError("PLIVO_ACCOUNT_APP_UUID must name another Verify application than PLIVO_APP_UUID")
    if settings.allowed_countries and settings.default_country not in settings.allowed_countries:
        raise ConfigError("DEFAULT_COUNTRY must be one of ALLOWED_COUNTRIES")
    return settings


_configured: Settings | None = None


def configure(settings: Settings | None) -> None:
    """The settings the library uses from now on, in place of the environment's (`mount` calls it);
    None goes back to the environment's."""
    global _configured
    _configured = settings
    get_settings.cache_clear()


@functools.cache
def get_settings() -> Settings:
    """The settings given to `configure`, else the environment's, loaded once."""
    return _configured if _configured is not None else load_settings()
