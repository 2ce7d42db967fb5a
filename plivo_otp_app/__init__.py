"""Phone verification and SMS two-factor login on Reflex and Plivo Verify, for any Reflex app.

    import reflex as rx
    from plivo_otp_app import Routes, Settings, mount

    app = rx.App()
    mount(app, Settings(...), Routes(login="/auth/login"))

Every name below is imported on first use: importing the package reads no
environment and touches no database, and the states behind the components are
only built once a name that needs them is asked for (after `mount` configured
the settings, in a host app that calls it first).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import flows, migrations
    from .components import verification_flow
    from .components.account import account_view
    from .components.auth import login_flow, signup_flow
    from .components.layout import page_shell
    from .components.recovery import reset_password_flow
    from .config import (
        AccountSettings,
        ConfigError,
        InfraSettings,
        LimitSettings,
        OtpPolicy,
        PlivoSettings,
        ProviderSettings,
        PumpingSettings,
        SandboxSettings,
        Settings,
        configure,
        get_settings,
        load_settings,
    )
    from .enums import Channel, Purpose, Status
    from .errors import OtpError
    from .gate import current_user, require_login
    from .models import User
    from .mount import mount
    from .providers import FakeProvider, Outcome, VerifyProvider, provider_names, register_provider
    from .routes import Routes, get_routes
    from .services import (
        AccountChanges,
        AccountView,
        Checked,
        LoginResult,
        LoginService,
        RecoveryService,
        Redeemed,
        Services,
        SessionService,
        SignupResult,
        SignupService,
        Started,
        VerificationService,
        compose,
        get_account_changes,
        get_backup_codes,
        get_login_service,
        get_recovery_service,
        get_services,
        get_session_service,
        get_signup_service,
        get_users,
        get_verification_service,
    )

#: Each public name and the module it lives in.
_HOMES = {
    "mount": ".mount",
    "Routes": ".routes",
    "get_routes": ".routes",
    "AccountSettings": ".config",
    "ConfigError": ".config",
    "InfraSettings": ".config",
    "LimitSettings": ".config",
    "PumpingSettings": ".config",
    "OtpPolicy": ".config",
    "PlivoSettings": ".config",
    "ProviderSettings": ".config",
    "SandboxSettings": ".config",
    "Settings": ".config",
    "configure": ".config",
    "get_settings": ".config",
    "load_settings": ".config",
    "current_user": ".gate",
    "require_login": ".gate",
    "verification_flow": ".components",
    "login_flow": ".components.auth",
    "signup_flow": ".components.auth",
    "reset_password_flow": ".components.recovery",
    "account_view": ".components.account",
    "page_shell": ".components.layout",
    "AccountChanges": ".services",
    "AccountView": ".services",
    "Checked": ".services",
    "LoginResult": ".services",
    "LoginService": ".services",
    "RecoveryService": ".services",
    "Redeemed": ".services",
    "Services": ".services",
    "SessionService": ".services",
    "SignupResult": ".services",
    "SignupService": ".services",
    "Started": ".services",
    "VerificationService": ".services",
    "compose": ".services",
    "get_account_changes": ".services",
    "get_backup_codes": ".services",
    "get_login_service": ".services",
    "get_recovery_service": ".services",
    "get_services": ".services",
    "get_session_service": ".services",
    "get_signup_service": ".services",
    "get_users": ".services",
    "get_verification_service": ".services",
    "FakeProvider": ".providers",
    "Outcome": ".providers",
    "VerifyProvider": ".providers",
    "provider_names": ".providers",
    "register_provider": ".providers",
    "Channel": ".enums",
    "Purpose": ".enums",
    "Status": ".enums",
    "OtpError": ".errors",
    "User": ".models",
}
#: Whole modules: the migrations (`upgrade`), the flow registry (`flows.register(Flow(...))`).
_MODULES = ("flows", "migrations")

__all__ = [
    "AccountChanges",
    "AccountSettings",
    "AccountView",
    "Channel",
    "Checked",
    "ConfigError",
    "FakeProvider",
    "InfraSettings",
    "LimitSettings",
    "LoginResult",
    "LoginService",
    "OtpError",
    "OtpPolicy",
    "Outcome",
    "PlivoSettings",
    "ProviderSettings",
    "PumpingSettings",
    "Purpose",
    "RecoveryService",
    "Redeemed",
    "Routes",
    "SandboxSettings",
    "Services",
    "SessionService",
    "Settings",
    "SignupResult",
    "SignupService",
    "Started",
    "Status",
    "User",
    "VerificationService",
    "VerifyProvider",
    "account_view",
    "compose",
    "configure",
    "current_user",
    "flows",
    "get_account_changes",
    "get_backup_codes",
    "get_login_service",
    "get_recovery_service",
    "get_routes",
    "get_services",
    "get_session_service",
    "get_settings",
    "get_signup_service",
    "get_users",
    "get_verification_service",
    "load_settings",
    "login_flow",
    "migrations",
    "mount",
    "page_shell",
    "provider_names",
    "register_provider",
    "require_login",
    "reset_password_flow",
    "signup_flow",
    "verification_flow",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
