"""`mount` on a fresh `rx.App`: the pages at the routes given, the settings given, the middlewares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import reflex as rx
from reflex_base.registry import RegistrationContext

from plivo_otp_app import Routes, mount
from plivo_otp_app import config as config_module
from plivo_otp_app import routes as routes_module
from plivo_otp_app.config import load_settings
from plivo_otp_app.cookies import browser_cookie
from plivo_otp_app.security_headers import security_headers
from plivo_otp_app.socket_origins import allow_origin

ROUTES = Routes(
    verify="/auth/verify",
    signup="/auth/signup",
    login="/auth/login",
    account="/auth/account",
    sandbox="/x",
    reset_password="/auth/reset",
    admin="/ops/dashboard",
)
PLIVO = {"OTP_PROVIDER": "plivo", "PLIVO_AUTH_ID": "MA" + "0" * 18, "PLIVO_AUTH_TOKEN": "t" * 40}


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    """Leave the process's settings and routes as they were."""
    routes = routes_module.get_routes()
    yield
    config_module.configure(None)
    routes_module.configure(routes)


def _app(**options: object) -> rx.App:
    """A new app, in a fork of the registrations (Reflex allows one app per context)."""
    RegistrationContext._context_var.set(RegistrationContext.get().fork())
    return rx.App(**options)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _own_context() -> Iterator[None]:
    token = RegistrationContext._context_var.set(RegistrationContext.ensure_context())
    yield
    RegistrationContext._context_var.reset(token)


def _routes(app: rx.App) -> set[str]:
    return set(app._unevaluated_pages)


def test_the_pages_go_to_the_routes_given_and_the_sandbox_only_in_sandbox_mode():
    app = _app()
    mount(app, load_settings({"OTP_PROVIDER": "sandbox"}), ROUTES)
    pages = {"auth/verify", "auth/signup", "auth/login", "auth/account", "auth/reset", "ops/dashboard", "404"}
    assert _routes(app) == pages | {"x"}
    plivo = _app()
    mount(plivo, load_settings(PLIVO), ROUTES)
    assert _routes(plivo) == pages


def test_a_not_found_page_the_app_added_before_mount_stays_its_own():
    def own_404() -> rx.Component:
        return rx.el.p("Nothing here")

    app = _app()
    app.add_page(own_404, route="404")
    mount(app, load_settings(PLIVO), ROUTES)
    assert app._unevaluated_pages["404"].component is own_404


def test_the_settings_given_are_the_librarys_and_the_routes_the_states():
    settings = load_settings({**PLIVO, "PASSWORD_MIN_LENGTH": "12"})
    mount(_app(), settings, ROUTES)
    assert config_module.get_settings() is settings
    assert routes_module.get_routes() is ROUTES


def test_the_apps_own_transformers_stay_between_the_api_and_the_headers():
    def own(app):
        return app

    app = _app(api_transformer=own)
    mount(app, load_settings(PLIVO), ROUTES)
    transformers = app.api_transformer
    assert isinstance(transformers, list)
    assert transformers[1:] == [own, browser_cookie, security_headers]
    assert app.sio is not None and app.sio.eio.cors_allowed_origins is allow_origin
    assert app.toaster is None
