"""Thin pages composed from components."""

from .index import index
from .sandbox import sandbox

__all__ = ["index", "sandbox"]
