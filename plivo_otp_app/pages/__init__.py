"""Thin pages composed from components."""

from .admin import admin
from .auth import account, login, reset_password, signup
from .index import index
from .not_found import not_found
from .sandbox import sandbox

__all__ = ["account", "admin", "index", "login", "not_found", "reset_password", "sandbox", "signup"]
