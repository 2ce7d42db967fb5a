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
    from .components import verification_flow
    from .components.account import account_view
    from .components.auth import login_flow, signup_flow
    from .components.layout import page_shell
    from .config import ConfigError, Settings, configure, get_settings, load_settings
    from .errors import OtpError
    from .gate import current_user, require_login
    from .models import User
    from .mount import mount
    from .routes import Routes, get_routes
    from .services import (
        AccountService,
        AccountView,
        Checked,
        LoginResult,
        Redeemed,
        SessionService,
        SignupResult,
        Started,
        VerificationService,
        get_account_service,
        get_session_service,
        get_verification_service,
    )

#: Each public name and the module it lives in.
_HOMES = {
    "mount": ".mount",
    "Routes": ".routes",
    "get_routes": ".routes",
    "Settings": ".config",
    "ConfigError": ".config",
    "configure": ".config",
    "get_settings": ".config",
    "load_settings": ".config",
    "require_login": ".gate",
    "current_user": ".gate",
    "verification_flow": ".components",
    "signup_flow": ".components.auth",
    "login_flow": ".components.auth",
    "account_view": ".components.account",
    "page_shell": ".components.layout",
    "AccountService": ".services",
    "AccountView": ".services",
    "Checked": ".services",
    "LoginResult": ".services",
    "Redeemed": ".services",
    "SessionService": ".services",
    "SignupResult": ".services",
    "Started": ".services",
    "VerificationService": ".services",
    "get_account_service": ".services",
    "get_session_service": ".services",
    "get_verification_service": ".services",
    "OtpError": ".errors",
    "User": ".models",
}
_MODULES = ("migrations",)

__all__ = [
    "AccountService",
    "AccountView",
    "Checked",
    "ConfigError",
    "LoginResult",
    "OtpError",
    "Redeemed",
    "Routes",
    "SessionService",
    "Settings",
    "SignupResult",
    "Started",
    "User",
    "VerificationService",
    "account_view",
    "configure",
    "current_user",
    "get_account_service",
    "get_routes",
    "get_session_service",
    "get_settings",
    "get_verification_service",
    "load_settings",
    "login_flow",
    "migrations",
    "mount",
    "page_shell",
    "require_login",
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
