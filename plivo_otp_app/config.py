"""The settings, in six groups, each field with its one default; read from the environment or built in code.

`Settings(provider, otp, limits, accounts, infra, pumping)`: every group is a frozen
dataclass whose fields carry their default and the environment variable they are
read from (see `environ`), so `Settings()` is the demo's defaults and a host app
writes `Settings(otp=OtpPolicy(default_country="GB"))`. `load_settings` reads the
same groups from the environment (and a `.env` file). Every value is checked when
a group is built, read or written in code; a bad value raises `ConfigError` naming
the variable, so a misconfigured deployment fails at start rather than on the first
user. Each provider owns its settings (`PlivoSettings` in `providers/plivo.py`,
`SandboxSettings` in `sandbox/settings.py`).

Nothing here reads the environment at import: `get_settings()` returns what
`configure(settings)` was given (by `mount`), else loads the environment once.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import limits.storage
import phonenumbers
from dotenv import load_dotenv
from limits import parse_many
from limits.storage import MovingWindowSupport

from .environ import Checked, ConfigError, as_flag, as_float, as_int, between, load_group, text, var
from .providers.plivo import PlivoSettings
from .providers.registry import provider_names
from .sandbox.settings import (
    SANDBOX_ACCOUNT_APP_UUID,
    SANDBOX_AUTH_ID,
    SANDBOX_AUTH_TOKEN,
    SANDBOX_SMS_SOURCE,
    SandboxSettings,
)

__all__ = [
    "SANDBOX_AUTH_ID",
    "SANDBOX_AUTH_TOKEN",
    "AccountSettings",
    "ConfigError",
    "InfraSettings",
    "LimitSettings",
    "OtpPolicy",
    "PlivoSettings",
    "ProviderSettings",
    "PumpingSettings",
    "SandboxSettings",
    "Settings",
    "configure",
    "get_settings",
    "load_settings",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Providers that deliver nothing to a real phone; they get the sandbox's second Verify
#: application and notice sender unless others are configured.
_STAND_INS = ("sandbox", "fake")


def _rate_limits(name: str, value: str) -> None:
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be rate limits such as '3/10minutes;5/hour', got {value!r}") from None


def _limit(name: str, default: str) -> str:
    return var(name, default, check=_rate_limits)


def _upper(_name: str, raw: str) -> str:
    return raw.upper()


def _country(name: str, code: str) -> None:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{name} must be ISO 3166 country codes, got {code!r}")


def _country_list(_name: str, raw: str) -> frozenset[str]:
    return frozenset(part.strip().upper() for part in raw.split(",") if part.strip())


def _countries(name: str, codes: frozenset[str]) -> None:
    for code in sorted(codes):
        _country(name, code)


def _storage_url(name: str, url: str) -> None:
    """A `limits` storage URL the moving-window limiter can use; checked without connecting.

    The message names the scheme only: the URL may carry a password.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    # The registry `limits` parses storage URLs with (re-exported, not in its `__all__`).
    schemes: Mapping[str, type[Any]] = vars(limits.storage)["SCHEMES"]
    usable = sorted(s for s, cls in schemes.items() if issubclass(cls, MovingWindowSupport))
    if scheme not in usable:
        raise ConfigError(
            f"{name} must start with one of {', '.join(f'{s}://' for s in usable)}, got {scheme!r}"
        )
    needs: Mapping[str, object] | list[str] = getattr(schemes[scheme], "DEPENDENCIES", [])
    if needs and not any(importlib.util.find_spec(module.split(".")[0]) for module in needs):
        raise ConfigError(f"{name} {scheme}:// needs the {' or '.join(needs)} package")


def _networks(name: str, raw: str) -> tuple[Network, ...]:
    try:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    except ValueError:
        message = f"{name} must be addresses or networks such as '10.0.0.0/8,::1', got {raw!r}"
        raise ConfigError(message) from None


#: Destinations off unless `PUMPING_ALLOW_HIGH_RISK` names them: the countries Twilio lists as
#: "known for having high risk of fraudulent activity" for messaging (its error 30649 page:
#: Bangladesh, Israel, Nigeria, Pakistan, Palestinian Territories, Sri Lanka, Azerbaijan,
#: Tajikistan, Oman, Tunisia, Algeria).
HIGH_RISK_COUNTRIES = frozenset({"BD", "IL", "NG", "PK", "PS", "LK", "AZ", "TJ", "OM", "TN", "DZ"})


#: Numbers that always need the challenge: the satellite phones and the shared international
#: networks of ITU-T E.164 (+881, +882, +883), whose calls and texts are billed at premium
#: rates and which an ordinary sign-up almost never uses.
CHALLENGE_PREFIXES = ("+881", "+882", "+883")


def _prefix_list(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(sorted({part.strip() for part in raw.split(",") if part.strip()}))


def _prefixes(name: str, prefixes: tuple[str, ...]) -> None:
    for prefix in prefixes:
        if not (prefix.startswith("+") and prefix[1:].isdigit() and 2 <= len(prefix) <= 15):
            raise ConfigError(f"{name} must be E.164 prefixes such as '+881,+4470', got {prefix!r}")


def _price_list(name: str, raw: str) -> tuple[tuple[str, float], ...]:
    """`US=0.0079,GB=0.04`: a price per country, in the budget's currency."""
    pairs: list[tuple[str, float]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        code, _, value = part.partition("=")
        try:
            pairs.append((code.strip().upper(), float(value)))
        except ValueError:
            raise ConfigError(
                f"{name} must be COUNTRY=price pairs such as 'US=0.0079,GB=0.04', got {raw!r}"
            ) from None
    return tuple(sorted(pairs))


def _caps_list(name: str, raw: str) -> tuple[tuple[str, float, float], ...]:
    """`US=10/50,GB=2/10`: a country's own hourly/daily spend caps."""
    caps: list[tuple[str, float, float]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        code, _, value = part.partition("=")
        hourly, _, daily = value.partition("/")
        try:
            caps.append((code.strip().upper(), float(hourly), float(daily)))
        except ValueError:
            raise ConfigError(
                f"{name} must be COUNTRY=hourly/daily caps such as 'US=10/50', got {raw!r}"
            ) from None
    return tuple(sorted(caps))


def _amount(name: str, value: float) -> None:
    if math.isnan(value) or not 0 <= value <= 1_000_000:
        raise ConfigError(f"{name} must be amounts between 0 and 1000000, got {value!r}")


def _prices(name: str, pairs: tuple[tuple[str, float], ...]) -> None:
    for code, price in pairs:
        _country(name, code)
        _amount(name, price)


def _caps(name: str, caps: tuple[tuple[str, float, float], ...]) -> None:
    for code, hourly, daily in caps:
        _country(name, code)
        _amount(name, hourly)
        _amount(name, daily)


#: What an SMS the provider reports undelivered leads to (`OTP_FALLBACK`).
FALLBACKS = ("offer", "call", "off")


def _fallback(name: str, value: str) -> None:
    if value not in FALLBACKS:
        raise ConfigError(f"{name} must be one of {', '.join(FALLBACKS)}, got {value!r}")


def _lower(_name: str, raw: str) -> str:
    return raw.lower()


def _log_level(name: str, level: str) -> None:
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {level!r}")


def _int(name: str, default: int, low: int, high: int) -> int:
    return var(name, default, as_int, between(low, high))


def _float(name: str, default: float, low: float, high: float) -> float:
    return var(name, default, as_float, between(low, high))


@dataclass(frozen=True)
class ProviderSettings:
    """Which provider delivers the codes (`OTP_PROVIDER`), and the built-in providers' settings.

    `plivo` serves both the `plivo` and the `sandbox` provider (the sandbox with its own
    credentials); a provider a host app registers can keep its settings in its factory.
    """

    name: str = "sandbox"
    plivo: PlivoSettings = field(default_factory=PlivoSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)

    def __post_init__(self) -> None:
        if self.name not in provider_names():
            raise ConfigError(f"OTP_PROVIDER must be one of {', '.join(provider_names())}, got {self.name!r}")
        if self.name == "plivo":
            self.plivo.check_credentials()
        elif self.name == "sandbox":
            _refuse_real_credentials(self.plivo, self.sandbox)

    @property
    def is_sandbox(self) -> bool:
        """Whether the embedded Plivo-compatible sandbox is the provider."""
        return self.name == "sandbox"

    @property
    def account_app_uuid(self) -> str | None:
        """The Verify application of codes to an account's own phone; None: the default one.

        `PLIVO_ACCOUNT_APP_UUID` where set; the sandbox's second application under a stand-in.
        """
        if self.plivo.account_app_uuid is None and self.name in _STAND_INS:
            return SANDBOX_ACCOUNT_APP_UUID
        return self.plivo.account_app_uuid

    @property
    def sms_source(self) -> str | None:
        """The sender of plain SMS (security notices); None: none are sent."""
        if self.plivo.sms_source is None and self.name in _STAND_INS:
            return SANDBOX_SMS_SOURCE
        return self.plivo.sms_source


@dataclass(frozen=True)
class OtpPolicy(Checked):
    """The codes: length, lifetime, tries, resend waits, and which numbers may have one."""

    code_length: int = _int("OTP_CODE_LENGTH", 6, 4, 8)
    expiry_seconds: int = _int("OTP_EXPIRY_SECONDS", 300, 30, 600)
    max_attempts: int = _int("OTP_MAX_ATTEMPTS", 5, 1, 10)
    resend_cooldown_seconds: int = _int("OTP_RESEND_COOLDOWN_SECONDS", 30, 1, 3600)
    #: The longest wait between resends, which doubles from `resend_cooldown_seconds`.
    resend_cooldown_max_seconds: int = _int("OTP_RESEND_COOLDOWN_MAX_SECONDS", 1800, 1, 86400)
    default_country: str = var("DEFAULT_COUNTRY", "US", _upper, _country)
    #: Countries whose numbers may have a code; empty: all.
    allowed_countries: frozenset[str] = var("ALLOWED_COUNTRIES", frozenset[str](), _country_list, _countries)
    #: An SMS reported undelivered: `offer` a voice call of the same code on the code step, `call`
    #: at once, or `off`. Once per code either way.
    fallback: str = var("OTP_FALLBACK", "offer", _lower, _fallback)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resend_cooldown_max_seconds < self.resend_cooldown_seconds:
            raise ConfigError(
                "OTP_RESEND_COOLDOWN_MAX_SECONDS must be at least OTP_RESEND_COOLDOWN_SECONDS "
                f"({self.resend_cooldown_seconds}), got {self.resend_cooldown_max_seconds}"
            )
        if self.allowed_countries and self.default_country not in self.allowed_countries:
            raise ConfigError("DEFAULT_COUNTRY must be one of ALLOWED_COUNTRIES")


@dataclass(frozen=True)
class LimitSettings(Checked):
    """Rate limits (`limits` strings such as "3/10minutes;5/hour") and where their counts live."""

    storage_url: str = var("RATE_LIMIT_STORAGE_URL", "memory://", check=_storage_url)
    send_per_number: str = _limit("RATE_LIMIT_SEND_PER_NUMBER", "3/10minutes;5/hour;10/day")
    send_per_ip: str = _limit("RATE_LIMIT_SEND_PER_IP", "10/hour")
    send_per_prefix: str = _limit("RATE_LIMIT_SEND_PER_PREFIX", "10/hour")
    send_per_account: str = _limit("RATE_LIMIT_SEND_PER_ACCOUNT", "5/10minutes;20/day")
    verify_per_ip: str = _limit("RATE_LIMIT_VERIFY_PER_IP", "30/5minutes")
    login_per_ip: str = _limit("RATE_LIMIT_LOGIN_PER_IP", "20/5minutes")
    login_per_account: str = _limit("RATE_LIMIT_LOGIN_PER_ACCOUNT", "10/15minutes")
    #: Let sends through (not refuse them) while the limit store is down.
    sends_fail_open: bool = var("RATE_LIMIT_SENDS_FAIL_OPEN", False, as_flag)


@dataclass(frozen=True)
class AccountSettings(Checked):
    """Passwords, sessions, pending logins, remembered devices and the wrong-code lockout."""

    password_min_length: int = _int("PASSWORD_MIN_LENGTH", 15, 8, 64)
    session_idle_minutes: int = _int("SESSION_IDLE_MINUTES", 30, 1, 1440)
    session_absolute_hours: int = _int("SESSION_ABSOLUTE_HOURS", 12, 1, 720)
    pending_login_minutes: int = _int("PENDING_LOGIN_MINUTES", 10, 1, 10)
    remember_device_days: int = _int("REMEMBER_DEVICE_DAYS", 30, 1, 365)
    lockout_after: int = _int("OTP_LOCKOUT_AFTER", 10, 1, 100)
    lockout_base_seconds: int = _int("OTP_LOCKOUT_SECONDS", 30, 1, 86400)
    lockout_max_seconds: int = _int("OTP_LOCKOUT_MAX_SECONDS", 3600, 1, 86400)


@dataclass(frozen=True)
class InfraSettings(Checked):
    """Logging, the database pool, worker threads and the reverse proxies believed."""

    log_level: str = var("LOG_LEVEL", "INFO", _upper, _log_level)
    db_pool_size: int = _int("DB_POOL_SIZE", 5, 1, 200)
    db_max_overflow: int = _int("DB_MAX_OVERFLOW", 10, 0, 200)
    db_pool_timeout: float = _float("DB_POOL_TIMEOUT", 5.0, 0.1, 120)
    worker_threads: int = _int("WORKER_THREADS", 8, 1, 256)
    #: Reverse proxies whose X-Forwarded-* headers are believed: this host only by default.
    trusted_proxies: tuple[Network, ...] = var(
        "TRUSTED_PROXIES",
        (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1")),
        _networks,
    )


@dataclass(frozen=True)
class PumpingSettings(Checked):
    """The SMS-pumping and cost policy (`pumping.py`): the conversion watch, the spend budget
    and the high-risk countries. A count or cap of 0 turns its rule off."""

    #: The conversion watch's sliding window.
    window_minutes: int = _int("PUMPING_WINDOW_MINUTES", 60, 12, 1440)
    #: Verified share of a group's sends below which its unverified sends count against it.
    min_conversion: float = _float("PUMPING_MIN_CONVERSION", 0.2, 0, 1)
    #: Unverified sends in the window at which a range (E.164 minus 4 digits) with low
    #: conversion gets no more codes; likewise a block (minus 6 digits) and a country.
    range_unverified: int = _int("PUMPING_RANGE_UNVERIFIED", 5, 0, 1_000_000)
    block_unverified: int = _int("PUMPING_BLOCK_UNVERIFIED", 10, 0, 1_000_000)
    country_unverified: int = _int("PUMPING_COUNTRY_UNVERIFIED", 50, 0, 1_000_000)
    #: Estimated price of one send by country (`US=0.0079,GB=0.04`), else the default price.
    prices: tuple[tuple[str, float], ...] = var("PUMPING_PRICES", (), _price_list, _prices)
    default_price: float = var("PUMPING_DEFAULT_PRICE", 0.05, as_float, _amount)
    #: Estimated spend per clock hour and day (UTC), over all countries and per country.
    hourly_budget: float = var("PUMPING_HOURLY_BUDGET", 25.0, as_float, _amount)
    daily_budget: float = var("PUMPING_DAILY_BUDGET", 150.0, as_float, _amount)
    country_hourly_budget: float = var("PUMPING_COUNTRY_HOURLY_BUDGET", 5.0, as_float, _amount)
    country_daily_budget: float = var("PUMPING_COUNTRY_DAILY_BUDGET", 25.0, as_float, _amount)
    #: A country's own hourly/daily caps in place of the two above (`US=10/50`).
    country_budgets: tuple[tuple[str, float, float], ...] = var(
        "PUMPING_COUNTRY_BUDGETS", (), _caps_list, _caps
    )
    #: Destinations that get no code unless allowed below.
    high_risk_countries: frozenset[str] = var(
        "PUMPING_HIGH_RISK_COUNTRIES", HIGH_RISK_COUNTRIES, _country_list, _countries
    )
    allow_high_risk: frozenset[str] = var(
        "PUMPING_ALLOW_HIGH_RISK", frozenset[str](), _country_list, _countries
    )
    #: A watched group past its threshold is challenged (`challenge.py`) and refused only once
    #: its unverified sends reach this many times the threshold (1: refused at the threshold).
    refuse_factor: float = _float("PUMPING_REFUSE_FACTOR", 2.0, 1, 100)
    #: First codes asked for from one address in the window after which its next are challenged.
    address_sends: int = _int("PUMPING_ADDRESS_SENDS", 3, 0, 1_000_000)
    #: First codes nobody entered in the window, over all numbers, that make a burst: an
    #: address with none of the window's first codes is then challenged.
    burst_sends: int = _int("PUMPING_BURST_SENDS", 100, 0, 10_000_000)
    #: E.164 prefixes whose every send is challenged (`+881,+882,+883`: satellite and
    #: international networks, billed at premium rates).
    challenge_prefixes: tuple[str, ...] = var(
        "PUMPING_CHALLENGE_PREFIXES", CHALLENGE_PREFIXES, _prefix_list, _prefixes
    )

    def price(self, region: str) -> float:
        """The estimated price of one send to `region`."""
        return dict(self.prices).get(region, self.default_price)

    def country_caps(self, region: str) -> tuple[float, float]:
        """`region`'s hourly and daily spend caps."""
        for code, hourly, daily in self.country_budgets:
            if code == region:
                return hourly, daily
        return self.country_hourly_budget, self.country_daily_budget


@dataclass(frozen=True)
class AuditSettings(Checked):
    """The audit trail (`audit.py`): how long its rows are kept and the key of its number hashes."""

    retention_days: int = _int("AUDIT_RETENTION_DAYS", 90, 1, 3650)
    #: Key of the keyed hash that groups a number's events; when unset, the installation's
    #: own random key, made once in the database. Changing it splits the old groups from the new.
    hash_key: str = var("AUDIT_HASH_KEY", "", repr=False)


@dataclass(frozen=True)
class ChallengeSettings(Checked):
    """The proof-of-work challenge before a risky send (`challenge/`): which provider asks it,
    how hard it is and how long a challenge lives."""

    #: The challenge provider (`register_challenge`): `pow`, the built-in proof of work.
    provider: str = var("CHALLENGE_PROVIDER", "pow")
    #: PBKDF2-SHA-256 iterations of one try, and how many tries the answer hides among (a
    #: client makes half of them on average: a browser about 0.4 s at the defaults, bench/challenge.py).
    cost: int = _int("CHALLENGE_COST", 1000, 1, 1_000_000)
    max_number: int = _int("CHALLENGE_MAX_NUMBER", 2000, 1, 10_000_000)
    #: Seconds a challenge can be solved and presented in; each solution is taken once.
    ttl_seconds: int = _int("CHALLENGE_TTL_SECONDS", 300, 10, 3600)
    #: Key of the challenges' signatures, shared by every worker; when unset, the
    #: installation's own random key, made once in the database.
    hmac_key: str = var("CHALLENGE_HMAC_KEY", "", repr=False)


@dataclass(frozen=True)
class Settings:
    """Everything the library reads, in groups; `Settings()` is the demo's defaults."""

    provider: ProviderSettings = field(default_factory=ProviderSettings)
    otp: OtpPolicy = field(default_factory=OtpPolicy)
    limits: LimitSettings = field(default_factory=LimitSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)
    infra: InfraSettings = field(default_factory=InfraSettings)
    pumping: PumpingSettings = field(default_factory=PumpingSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    challenge: ChallengeSettings = field(default_factory=ChallengeSettings)


def _refuse_real_credentials(plivo: PlivoSettings, sandbox: SandboxSettings) -> None:
    """The sandbox shows every code to anyone: it refuses beside real credentials unless forced."""
    if plivo.has_credentials and not sandbox.force:
        raise ConfigError(
            "OTP_PROVIDER=sandbox refuses to run while PLIVO_AUTH_ID/PLIVO_AUTH_TOKEN are set; "
            "unset them or set SANDBOX_FORCE=1"
        )


def _provider_settings(env: Mapping[str, str]) -> ProviderSettings:
    plivo = load_group(PlivoSettings, env)
    sandbox = load_group(SandboxSettings, env)
    chosen = text(env, "OTP_PROVIDER")
    production = (text(env, "REFLEX_ENV_MODE") or "").lower() == "prod"
    if chosen is None and not plivo.has_credentials and production:
        # A production secret that failed to load must not turn into a public outbox of codes.
        raise ConfigError(
            "OTP_PROVIDER is not set and there are no Plivo credentials: in production set "
            "PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, or OTP_PROVIDER=sandbox to serve the sandbox, "
            "whose outbox shows every code to anyone"
        )
    name = (chosen or ("plivo" if plivo.has_credentials else ProviderSettings.name)).lower()
    if name == "sandbox":
        _refuse_real_credentials(plivo, sandbox)  # before they are dropped below
    if name != "plivo":
        # Real credentials never travel with a provider that does not use them.
        plivo = dataclasses.replace(plivo, auth_id="", auth_token="")
    return ProviderSettings(name, plivo, sandbox)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings from environment variables.

    Args:
        env: The variables to read; the process environment (after loading `.env`)
            when omitted. An unset or blank variable keeps the field's default.

    Returns:
        The checked settings.

    Raises:
        ConfigError: A variable is missing or invalid; the message names it.
    """
    if env is None:
        load_dotenv(override=False)
        env = os.environ
    return Settings(
        provider=_provider_settings(env),
        otp=load_group(OtpPolicy, env),
        limits=load_group(LimitSettings, env),
        accounts=load_group(AccountSettings, env),
        infra=load_group(InfraSettings, env),
        pumping=load_group(PumpingSettings, env),
        audit=load_group(AuditSettings, env),
        challenge=load_group(ChallengeSettings, env),
    )


_configured: list[Settings] = []


def configure(settings: Settings | None) -> None:
    """Make `settings` the process's settings (`mount` calls this with the host app's).

    Call it before the first request: services already built keep the settings they
    were built with. `None` goes back to the environment's.
    """
    _configured[:] = [] if settings is None else [settings]
    get_settings.cache_clear()


@functools.cache
def get_settings() -> Settings:
    """The settings given to `configure`, else the environment's, loaded once (the demo app)."""
    return _configured[0] if _configured else load_settings()
