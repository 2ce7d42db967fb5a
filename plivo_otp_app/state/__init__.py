"""Reflex states, one per feature."""

from .account import AccountState
from .auth import AuthState
from .login import LoginState, SignupState
from .sandbox import SandboxState
from .verify import VerifyState

__all__ = ["AccountState", "AuthState", "LoginState", "SandboxState", "SignupState", "VerifyState"]
