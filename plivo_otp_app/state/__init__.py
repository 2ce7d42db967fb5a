"""Reflex states, one per feature."""

from .sandbox import SandboxState
from .verify import VerifyState

__all__ = ["SandboxState", "VerifyState"]
