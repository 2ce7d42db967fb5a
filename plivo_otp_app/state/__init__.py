"""Reflex states, one per feature; importing them registers the library's flow purposes."""

from ..flows import builtin  # noqa: F401 - registers the flows, which use the states below
from .account import AccountState
from .admin import AdminState
from .auth import AuthState
from .language import LanguageState
from .login import LoginState, SignupState
from .nav import NavState
from .recovery import RecoveryState
from .sandbox import SandboxState
from .theme import ThemeState
from .verify import VerifyState

__all__ = [
    "AccountState",
    "AdminState",
    "AuthState",
    "LanguageState",
    "LoginState",
    "NavState",
    "RecoveryState",
    "SandboxState",
    "SignupState",
    "ThemeState",
    "VerifyState",
]
