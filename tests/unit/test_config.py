"""`load_settings`: safe defaults, every bad value refused by name, and the sandbox never
runs with (or leaks) real Plivo credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from plivo_otp_app.config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, ConfigError, Settings, load_settings
from plivo_otp_app.providers import PlivoProvider, build_provider

ROOT = Path(__file__).resolve().parents[2]
REAL_ID = "MAREAL0000000000ABCD"
REAL_TOKEN = "real-secret-token-value"


def uses_sandbox_credentials(settings: Settings) -> bool:
    """The settings keep no Plivo credentials, and the provider they build has the sandbox's."""
    provider = build_provider(settings)
    return (
        settings.provider.plivo.auth_id == settings.provider.plivo.auth_token == ""
        and isinstance(provider, PlivoProvider)
        and provider.credentials == (SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN)
    )


def test_defaults_without_credentials():
    settings = load_settings({})
    assert settings.provider.name == "sandbox"
    assert settings.provider.is_sandbox
    assert uses_sandbox_credentials(settings)
    assert settings.otp.code_length == 6
    assert settings.otp.expiry_seconds == 300
    assert settings.otp.max_attempts == 5
    assert settings.otp.resend_cooldown_seconds == 30
    assert settings.limits.storage_url == "memory://"
    assert settings.otp.default_country == "US"
    assert settings.otp.allowed_countries == frozenset()
    assert settings.infra.log_level == "INFO"


def test_blank_values_mean_defaults():
    settings = load_settings({"OTP_CODE_LENGTH": "  ", "DEFAULT_COUNTRY": "", "PLIVO_AUTH_ID": ""})
    assert settings.otp.code_length == 6
    assert settings.otp.default_country == "US"
    assert settings.provider.name == "sandbox"


def test_good_values_are_read():
    settings = load_settings(
        {
            "OTP_CODE_LENGTH": "8",
            "OTP_EXPIRY_SECONDS": "600",
            "DEFAULT_COUNTRY": "gb",
            "ALLOWED_COUNTRIES": "GB, de",
            "LOG_LEVEL": "debug",
            "PLIVO_API_BASE_URL": "https://api.example.test/",
            "PLIVO_READ_TIMEOUT": "2.5",
            "WORKER_THREADS": "3",
        }
    )
    assert settings.otp.code_length == 8
    assert settings.otp.expiry_seconds == 600
    assert settings.otp.default_country == "GB"
    assert settings.otp.allowed_countries == frozenset({"GB", "DE"})
    assert settings.infra.log_level == "DEBUG"
    assert settings.provider.plivo.api_base_url == "https://api.example.test"
    assert settings.provider.plivo.read_timeout == 2.5
    assert settings.infra.worker_threads == 3


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OTP_CODE_LENGTH": "3"}, "OTP_CODE_LENGTH"),
        ({"OTP_CODE_LENGTH": "9"}, "OTP_CODE_LENGTH"),
        ({"OTP_CODE_LENGTH": "abc"}, "OTP_CODE_LENGTH"),
        ({"OTP_CODE_LENGTH": "6.5"}, "OTP_CODE_LENGTH"),
        ({"OTP_EXPIRY_SECONDS": "601"}, "OTP_EXPIRY_SECONDS"),
        ({"OTP_MAX_ATTEMPTS": "0"}, "OTP_MAX_ATTEMPTS"),
        ({"OTP_PROVIDER": "twilio"}, "OTP_PROVIDER"),
        (
            {"OTP_PROVIDER": "plivo", "PLIVO_AUTH_ID": "XX123", "PLIVO_AUTH_TOKEN": REAL_TOKEN},
            "PLIVO_AUTH_ID",
        ),
        (
            {"OTP_PROVIDER": "plivo", "PLIVO_AUTH_ID": REAL_ID + "X", "PLIVO_AUTH_TOKEN": REAL_TOKEN},
            "PLIVO_AUTH_ID",
        ),
        ({"OTP_PROVIDER": "plivo"}, "PLIVO_AUTH_ID"),
        ({"RATE_LIMIT_SEND_PER_IP": "lots"}, "RATE_LIMIT_SEND_PER_IP"),
        ({"RATE_LIMIT_SEND_PER_NUMBER": "3 per fortnight"}, "RATE_LIMIT_SEND_PER_NUMBER"),
        ({"DEFAULT_COUNTRY": "XX"}, "DEFAULT_COUNTRY"),
        ({"ALLOWED_COUNTRIES": "GB,ZZ", "DEFAULT_COUNTRY": "GB"}, "ALLOWED_COUNTRIES"),
        ({"ALLOWED_COUNTRIES": "GB,DE"}, "DEFAULT_COUNTRY"),
        ({"ALLOWED_COUNTRIES": "GB,DE"}, "ALLOWED_COUNTRIES"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"WORKER_THREADS": "0"}, "WORKER_THREADS"),
        ({"WORKER_THREADS": "many"}, "WORKER_THREADS"),
        ({"PLIVO_API_BASE_URL": "ftp://x"}, "PLIVO_API_BASE_URL"),
        ({"PLIVO_CALLBACK_BASE_URL": "javascript:alert(1)"}, "PLIVO_CALLBACK_BASE_URL"),
        ({"PLIVO_CALLBACK_MAX_AGE_SECONDS": "5"}, "PLIVO_CALLBACK_MAX_AGE_SECONDS"),
        ({"OTP_FALLBACK": "sms"}, "OTP_FALLBACK"),
        ({"PLIVO_READ_TIMEOUT": "-1"}, "PLIVO_READ_TIMEOUT"),
        ({"PLIVO_READ_TIMEOUT": "nan"}, "PLIVO_READ_TIMEOUT"),
        ({"OTP_RESEND_COOLDOWN_SECONDS": "60", "OTP_RESEND_COOLDOWN_MAX_SECONDS": "30"}, "COOLDOWN_MAX"),
        (
            {"PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": REAL_TOKEN, "OTP_PROVIDER": "sandbox"},
            "SANDBOX_FORCE",
        ),
        (
            {"PLIVO_AUTH_ID": REAL_ID, "OTP_PROVIDER": "sandbox", "SANDBOX_FORCE": "maybe"},
            "SANDBOX_FORCE",
        ),
    ],
)
def test_bad_value_raises_config_error_naming_the_variable(env, variable):
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert variable in str(refused.value)


def test_config_error_does_not_echo_the_auth_token():
    env = {"OTP_PROVIDER": "plivo", "PLIVO_AUTH_ID": "bad-id", "PLIVO_AUTH_TOKEN": REAL_TOKEN}
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert REAL_TOKEN not in str(refused.value)


@pytest.mark.parametrize("auth_id", [REAL_ID, "SAREAL0000000000ABCD"])
def test_real_credentials_select_plivo(auth_id):
    settings = load_settings({"PLIVO_AUTH_ID": auth_id, "PLIVO_AUTH_TOKEN": REAL_TOKEN})
    assert settings.provider.name == "plivo"
    assert not settings.provider.is_sandbox
    assert settings.provider.plivo.auth_id == auth_id
    assert settings.provider.plivo.auth_token == REAL_TOKEN


def test_explicit_plivo_provider_with_credentials():
    env = {"OTP_PROVIDER": "PLIVO", "PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": REAL_TOKEN}
    assert load_settings(env).provider.name == "plivo"


def test_half_set_credentials_are_refused():
    with pytest.raises(ConfigError, match="PLIVO_AUTH_TOKEN"):
        load_settings({"PLIVO_AUTH_ID": REAL_ID})


def test_sandbox_with_real_credentials_is_refused_unless_forced():
    env = {"OTP_PROVIDER": "sandbox", "PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": REAL_TOKEN}
    with pytest.raises(ConfigError, match="SANDBOX_FORCE"):
        load_settings(env)
    with pytest.raises(ConfigError, match="SANDBOX_FORCE"):
        load_settings({**env, "SANDBOX_FORCE": "0"})


@pytest.mark.parametrize("force", ["1", "true", "YES"])
def test_forced_sandbox_uses_sandbox_credentials_never_the_real_ones(force):
    env = {
        "OTP_PROVIDER": "sandbox",
        "PLIVO_AUTH_ID": REAL_ID,
        "PLIVO_AUTH_TOKEN": REAL_TOKEN,
        "SANDBOX_FORCE": force,
    }
    settings = load_settings(env)
    assert settings.provider.name == "sandbox"
    assert uses_sandbox_credentials(settings)
    assert REAL_ID not in repr(settings)
    assert REAL_TOKEN not in repr(settings)


@pytest.mark.parametrize("mode", [None, "dev", "preview"])
def test_outside_production_no_credentials_mean_the_sandbox(mode):
    env = {} if mode is None else {"REFLEX_ENV_MODE": mode}
    assert load_settings(env).provider.name == "sandbox"


@pytest.mark.parametrize("provider", [None, "", "  "])
def test_production_without_provider_or_credentials_refuses_to_start(provider):
    env = (
        {"REFLEX_ENV_MODE": "prod"}
        if provider is None
        else {"REFLEX_ENV_MODE": "prod", "OTP_PROVIDER": provider}
    )
    with pytest.raises(ConfigError, match="OTP_PROVIDER"):
        load_settings(env)


def test_production_runs_the_sandbox_only_when_asked_to():
    settings = load_settings({"REFLEX_ENV_MODE": "prod", "OTP_PROVIDER": "sandbox"})
    assert settings.provider.name == "sandbox"
    assert uses_sandbox_credentials(settings)


def test_production_with_credentials_selects_plivo():
    settings = load_settings(
        {"REFLEX_ENV_MODE": "prod", "PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": REAL_TOKEN}
    )
    assert settings.provider.name == "plivo"


def test_production_with_half_loaded_credentials_names_the_missing_one():
    with pytest.raises(ConfigError, match="PLIVO_AUTH_TOKEN"):
        load_settings({"REFLEX_ENV_MODE": "prod", "PLIVO_AUTH_ID": REAL_ID})


def test_the_account_verify_application_is_the_sandboxs_own_or_a_second_one():
    assert load_settings({}).provider.account_app_uuid  # the sandbox keeps account codes apart
    real = {"PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": "x" * 30}
    assert load_settings(real).provider.account_app_uuid is None
    chosen = load_settings({**real, "PLIVO_ACCOUNT_APP_UUID": "app-2", "PLIVO_APP_UUID": "app-1"})
    assert chosen.provider.account_app_uuid == "app-2"
    with pytest.raises(ConfigError, match="PLIVO_ACCOUNT_APP_UUID"):
        load_settings({**real, "PLIVO_ACCOUNT_APP_UUID": "app-1", "PLIVO_APP_UUID": "app-1"})


def test_env_example_sets_every_demo_limit_and_is_the_readme_snippet():
    example = ROOT / ".env.example"
    values = {name: value or "" for name, value in dotenv_values(example).items()}
    defaults, relaxed = load_settings({}), load_settings(values)
    for group, field in (
        ("limits", "send_per_ip"),
        ("limits", "send_per_number"),
        ("limits", "send_per_prefix"),
        ("limits", "send_per_account"),
        ("limits", "verify_per_ip"),
        ("limits", "login_per_ip"),
        ("limits", "login_per_account"),
        ("otp", "resend_cooldown_seconds"),
        ("pumping", "range_unverified"),
        ("pumping", "block_unverified"),
    ):
        assert getattr(getattr(relaxed, group), field) != getattr(getattr(defaults, group), field), field
    lines = [line for line in example.read_text().splitlines() if line and not line.startswith("#")]
    assert "\n".join(lines) in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "url",
    [
        "memory://",
        "redis://cache.internal:6379/0",
        "rediss://:secret@cache:6380/1",
        "redis+sentinel://s:26379/m",
    ],
)
def test_rate_limit_storage_urls_limits_can_use_are_accepted(url):
    assert load_settings({"RATE_LIMIT_STORAGE_URL": url}).limits.storage_url == url


@pytest.mark.parametrize(
    "url",
    [
        "reddis://:hunter2@cache:6379/0",  # a typo
        "hunter2@cache.internal:6379",  # no scheme
        "memcached://:hunter2@cache:11211",  # a limits storage without moving windows
        "async+redis://:hunter2@cache:6379",  # the asyncio storages do not serve this limiter
    ],
)
def test_rate_limit_storage_url_is_refused_at_load_without_echoing_it(url):
    with pytest.raises(ConfigError, match="RATE_LIMIT_STORAGE_URL") as refused:
        load_settings({"RATE_LIMIT_STORAGE_URL": url})
    assert "hunter2" not in str(refused.value)
