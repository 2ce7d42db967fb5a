"""`mount`: the library's pages, JSON API, middlewares and start-up checks, added to an `rx.App`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx
from reflex.utils.exceptions import RouteValueError

from . import config, log, socket_origins
from .config import Settings
from .cookies import browser_cookie
from .routes import Routes
from .routes import configure as configure_routes
from .security_headers import security_headers


def mount(app: rx.App, settings: Settings | None = None, routes: Routes = Routes()) -> None:  # noqa: B008 - frozen
    """Add phone verification, sign-up, SMS two-factor login and the account page to `app`.

    Args:
        app: The host app, as built by `rx.App(...)`.
        settings: The library's settings; read from the environment (once) when omitted.
        routes: Where the pages go; the JSON API and the cookie routes stay under `/api`,
            the sandbox's under `/sandbox` (sandbox mode only).
    """
    if settings is not None:
        config.configure(settings)
    settings = config.get_settings()
    configure_routes(routes)
    log.configure(settings.infra.log_level)
    # The server (granian, uvicorn) sets up its own loggers after this call: capture them again at start.
    app.register_lifespan_task(log.capture_foreign)
    # The states and pages are imported only now, once the settings are the app's.
    from .api import build_api  # noqa: PLC0415

    # Innermost the library's routes, then the app's own transformers; outermost the browser cookie
    # every page gets (so that a login can be bound to the browser) and the security headers on every
    # response (pages, API, cookie routes, sandbox).
    app.api_transformer = [build_api(), *_transformers(app.api_transformer), browser_cookie, security_headers]
    socket_origins.install(app)
    _speak_the_visitors_language(app)
    app.stylesheets = [*app.stylesheets, _stylesheet()]
    _without_inline_styles(app)
    _add_pages(app, routes, settings.provider.is_sandbox)


def _speak_the_visitors_language(app: rx.App) -> None:
    """Every event in the tab's language (`state/language.py`), the middleware added once."""
    from .state.language import LanguageMiddleware  # noqa: PLC0415

    if not any(isinstance(m, LanguageMiddleware) for m in app._middlewares):
        app.add_middleware(LanguageMiddleware())


def _transformers(current: Any) -> list[Any]:
    if current is None:
        return []
    if isinstance(current, Sequence) and not isinstance(current, str):
        return list(current)
    return [current]


def _stylesheet() -> str:
    """The components' stylesheet, shipped in the package and linked into the app's `assets/external/`.

    `rx.App(stylesheets=...)` takes a path under the app's assets, unversioned: the asset's
    build-time path without its `$/public` prefix.
    """
    return rx.asset("styles.css", shared=True).importable_path.removeprefix("$/public")


def _without_inline_styles(app: rx.App) -> None:
    """The security headers allow no inline style, which Reflex's toast provider and its
    connection overlay (a toast and a pulsing icon) set: our own connection notice stands in
    for them (also the smaller JavaScript, bench/RESULTS.md)."""
    from .components import connection_banner  # noqa: PLC0415

    app.toaster = None
    app.app_wraps[5, "Overlay"] = lambda stateful: connection_banner() if stateful else None


def _add_pages(app: rx.App, where: Routes, sandbox_mode: bool) -> None:
    from .i18n import t  # noqa: PLC0415
    from .pages import account, admin, index, login, not_found, reset_password, sandbox, signup  # noqa: PLC0415
    from .state import (  # noqa: PLC0415
        AccountState,
        AdminState,
        AuthState,
        LoginState,
        RecoveryState,
        SandboxState,
        SignupState,
        VerifyState,
    )

    # Every page's on_load starts with AuthState.arrive (a full-page move already made is not repeated);
    # the header loads its own links when it mounts (NavState.load), on a host's page_shell page too.
    reset = [VerifyState.reset_flow]
    # The titles in the tab's language too (React hoists the page's <title> into the head).
    pages: list[tuple[Callable[[], rx.Component], str, rx.Var[str], list[Any]]] = [
        (index, where.verify, t("Verify your phone"), reset),
        (signup, where.signup, t("Create an account"), [AuthState.know_browser, *reset, SignupState.load]),
        (login, where.login, t("Log in"), [AuthState.know_browser, *reset, LoginState.load]),
        (account, where.account, t("Your account"), [*reset, AccountState.load]),
        (admin, where.admin, t("Operator dashboard"), [AdminState.load]),
        (
            reset_password,
            where.reset_password,
            t("Reset your password"),
            [AuthState.know_browser, *reset, RecoveryState.load],
        ),
    ]
    if sandbox_mode:
        pages.append((sandbox, where.sandbox, t("Sandbox outbox"), [SandboxState.refresh]))
    first = [AuthState.arrive]
    for page, route, title, on_load in pages:
        app.add_page(page, route=route, title=title, on_load=[*first, *on_load])
    # Reflex's 404 route, every path that is no page; a 404 page the app added before `mount` stays.
    with contextlib.suppress(RouteValueError):
        app.add_page(not_found, route="404", title=t("Page not found"), on_load=first)
