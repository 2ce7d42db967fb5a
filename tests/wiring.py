"""Hand a test's own services to the states: every service getter a module imported
returns the test's service instead of the process's.

Importable from every test folder as `wiring`, like `harness`.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from plivo_otp_app.services import Services


def use_services(monkeypatch: pytest.MonkeyPatch, services: Services, *modules: ModuleType) -> None:
    """Point each getter that `modules` imported from `plivo_otp_app.services` at `services`."""
    getters = {
        "get_services": services,
        "get_verification_service": services.verifications,
        "get_session_service": services.sessions,
        "get_users": services.users,
        "get_backup_codes": services.backup_codes,
        "get_signup_service": services.signups,
        "get_login_service": services.logins,
        "get_account_changes": services.account_changes,
        "get_recovery_service": services.recovery,
    }
    for module in modules:
        for name, service in getters.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, lambda service=service: service)
