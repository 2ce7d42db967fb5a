"""Where the library's pages live in the app that mounts them.

`mount` stores the app's `Routes`; pages, components and states read them from
here at compile or event time, so a host app can put the pages anywhere
(`Routes(login="/auth/login")`) and every link and redirect follows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Routes:
    """The path of each page (the sandbox outbox only exists in sandbox mode)."""

    verify: str = "/"
    signup: str = "/signup"
    login: str = "/login"
    account: str = "/account"
    sandbox: str = "/sandbox"
    reset_password: str = "/reset-password"  # noqa: S105 - a path
    admin: str = "/admin"

    def __post_init__(self) -> None:
        for name, path in vars(self).items():
            if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
                raise ValueError(f"Routes.{name} must be a path starting with one '/', got {path!r}")


_mounted = Routes()


def configure(routes: Routes) -> None:
    """Called by `mount`: the routes every page, link and redirect uses from now on."""
    global _mounted
    _mounted = routes


def get_routes() -> Routes:
    """The mounted routes (the defaults before `mount`)."""
    return _mounted
