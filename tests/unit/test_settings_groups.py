"""Settings in code: one source of defaults, the same checks as the environment's, and
`configure` winning over the environment; providers by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

import pytest

from plivo_otp_app.config import (
    AccountSettings,
    ConfigError,
    InfraSettings,
    LimitSettings,
    OtpPolicy,
    ProviderSettings,
    Settings,
    configure,
    get_settings,
    load_settings,
)
from plivo_otp_app.errors import ProviderUnavailable
from plivo_otp_app.providers import (
    FakeProvider,
    PlivoProvider,
    PlivoSettings,
    build_provider,
    provider_names,
    register_provider,
    registry,
)
from plivo_otp_app.sandbox import SandboxSettings

REAL_ID = "MAREAL0000000000ABCD"


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's settings forgotten before and after the test."""
    configure(None)
    yield
    configure(None)


def test_the_defaults_in_code_are_the_environments_defaults():
    assert Settings() == load_settings({})


def test_every_group_field_names_its_variable():
    groups = (
        PlivoSettings,
        SandboxSettings,
        OtpPolicy,
        LimitSettings,
        AccountSettings,
        InfraSettings,
    )
    for group in groups:
        for f in fields(group):
            assert f.metadata.get("env"), f"{group.__name__}.{f.name}"


def test_a_host_app_writes_only_what_differs():
    settings = Settings(otp=OtpPolicy(default_country="GB", allowed_countries=frozenset({"GB", "IE"})))
    assert settings.otp.default_country == "GB"
    assert settings.otp.code_length == 6
    assert settings.provider.is_sandbox


@pytest.mark.parametrize(
    ("build", "variable"),
    [
        (lambda: OtpPolicy(code_length=3), "OTP_CODE_LENGTH"),
        (lambda: OtpPolicy(default_country="XX"), "DEFAULT_COUNTRY"),
        (lambda: OtpPolicy(allowed_countries=frozenset({"GB"})), "DEFAULT_COUNTRY"),
        (lambda: OtpPolicy(resend_cooldown_seconds=60, resend_cooldown_max_seconds=30), "COOLDOWN_MAX"),
        (lambda: AccountSettings(password_min_length=4), "PASSWORD_MIN_LENGTH"),
        (lambda: LimitSettings(send_per_ip="lots"), "RATE_LIMIT_SEND_PER_IP"),
        (lambda: InfraSettings(log_level="LOUD"), "LOG_LEVEL"),
        (lambda: PlivoSettings(callback_base_url="javascript:alert(1)"), "PLIVO_CALLBACK_BASE_URL"),
        (lambda: ProviderSettings(name="bogus"), "OTP_PROVIDER"),
        (lambda: ProviderSettings(name="plivo"), "PLIVO_AUTH_ID"),
        (lambda: ProviderSettings(plivo=PlivoSettings(auth_id=REAL_ID, auth_token="t")), "SANDBOX_FORCE"),
    ],
)
def test_settings_built_in_code_are_checked_like_the_environments(build, variable):
    with pytest.raises(ConfigError) as refused:
        build()
    assert variable in str(refused.value)


def test_configured_settings_win_over_the_environment(fresh_settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OTP_CODE_LENGTH", "8")
    assert get_settings().otp.code_length == 8
    configure(Settings(otp=OtpPolicy(code_length=4)))
    assert get_settings().otp.code_length == 4
    configure(None)
    assert get_settings().otp.code_length == 8


def test_the_environment_is_read_once(fresh_settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OTP_CODE_LENGTH", "7")
    first = get_settings()
    monkeypatch.setenv("OTP_CODE_LENGTH", "5")
    assert get_settings() is first


def test_the_built_in_providers_are_registered_and_named_by_otp_provider():
    assert {"plivo", "sandbox", "fake"} <= set(provider_names())
    assert isinstance(build_provider(load_settings({"OTP_PROVIDER": "fake"})), FakeProvider)
    assert isinstance(build_provider(load_settings({"OTP_PROVIDER": "sandbox"})), PlivoProvider)
    real = load_settings({"PLIVO_AUTH_ID": REAL_ID, "PLIVO_AUTH_TOKEN": "secret"})
    assert isinstance(build_provider(real), PlivoProvider)


def test_a_registered_provider_can_be_chosen_by_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    built: list[Settings] = []

    def factory(settings: Settings) -> FakeProvider:
        built.append(settings)
        return FakeProvider()

    with pytest.raises(ConfigError, match="OTP_PROVIDER"):
        load_settings({"OTP_PROVIDER": "carrier-pigeon"})
    register_provider("carrier-pigeon", factory)
    settings = load_settings({"OTP_PROVIDER": "Carrier-Pigeon"})
    assert isinstance(build_provider(settings), FakeProvider)
    assert built == [settings]


def test_a_provider_name_must_be_plain():
    with pytest.raises(ValueError, match="provider name"):
        register_provider("Has Spaces", lambda _settings: FakeProvider())


def test_the_fake_is_sized_from_the_settings_and_fails_on_the_sandboxs_fault_numbers():
    fake = build_provider(load_settings({"OTP_PROVIDER": "fake", "OTP_CODE_LENGTH": "8"}))
    assert isinstance(fake, FakeProvider)
    fake.send("+14155552671", "sms")
    assert len(fake.code_for("+14155552671")) == 8
    with pytest.raises(ProviderUnavailable):
        fake.send("+12025550103", "sms")
    with pytest.raises(LookupError):
        fake.code_for("+12025550103")


def test_stand_in_providers_keep_account_codes_apart_and_send_notices():
    for name in ("sandbox", "fake"):
        provider = ProviderSettings(name=name)
        assert provider.account_app_uuid and provider.sms_source
    real = ProviderSettings(name="plivo", plivo=PlivoSettings(auth_id=REAL_ID, auth_token="t"))
    assert real.account_app_uuid is None and real.sms_source is None
