"""Settings groups read from environment variables, with their checks.

A settings group is a frozen dataclass whose fields are declared with `var`: the
field's default is the one default there is, and its metadata names the
environment variable and how to read and check it. `load_group` reads a group
from an environment mapping (an unset or blank variable keeps the field's
default); the checks run in `__post_init__`, so a group built in code is
checked the same way as one read from the environment. A bad value raises
`ConfigError` naming the variable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import Field, field, fields
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")
G = TypeVar("G", bound="Checked")

#: Turns a variable's text into the field's type; raises `ConfigError` (or `ValueError`).
Parse = Callable[[str, str], Any]
#: Checks a field's value; raises `ConfigError` naming the variable.
Check = Callable[[str, Any], None]


class ConfigError(ValueError):
    """A configuration variable is missing or has a bad value."""


def var(name: str, default: T, parse: Parse | None = None, check: Check | None = None, **kw: Any) -> T:
    """A settings field read from environment variable `name`, `default` when unset or blank.

    `parse` turns the text into the field's type (default: the text itself); `check`
    refuses a bad value, read or given in code. Other keywords go to `dataclasses.field`.
    """
    metadata = {"env": name, "parse": parse or _text, "check": check}
    return field(default=default, metadata=metadata, **kw)


class Checked:
    """Base of a settings group (a frozen dataclass): runs every field's check after construction."""

    #: Set by `@dataclass` on each group.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __post_init__(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                check(f.metadata["env"], getattr(self, f.name))


def load_group(cls: type[G], env: Mapping[str, str]) -> G:
    """A settings group read from `env`; a variable unset or blank keeps the field's default."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f.metadata.get("env")
        if name is None:
            continue
        raw = text(env, name)
        if raw is not None:
            try:
                values[f.name] = f.metadata["parse"](name, raw)
            except ConfigError:
                raise
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    return cls(**values)


def text(env: Mapping[str, str], name: str) -> str | None:
    """A variable's value stripped, or None when it is unset or blank."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _text(_name: str, raw: str) -> str:
    return raw


def as_int(_name: str, raw: str) -> int:
    """Parse an integer (a `ValueError` becomes "must be a number")."""
    return int(raw)


def as_float(_name: str, raw: str) -> float:
    """Parse a number."""
    return float(raw)


def between(low: float, high: float) -> Check:
    """A check that a number lies in [low, high] (NaN does not)."""

    def check(name: str, value: float) -> None:
        if math.isnan(value) or not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value!r}")

    return check


def as_flag(name: str, raw: str) -> bool:
    """1/0, true/false or yes/no."""
    lowered = raw.lower()
    if lowered not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
    return lowered in ("1", "true", "yes")


def as_url(_name: str, raw: str) -> str:
    """A URL without its trailing slash (checked by `http_url`)."""
    return raw.rstrip("/")


def http_url(name: str, value: str | None) -> None:
    """A check that a URL, where given, is http(s)."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {value!r}")
