"""Thin pages composed from components."""

from .auth import account, login, signup
from .index import index
from .sandbox import sandbox

__all__ = ["account", "index", "login", "sandbox", "signup"]
