"""The not-found page (Reflex's `404` route): the site header, and a way home."""

from __future__ import annotations

import reflex as rx

from ..components import page_shell
from ..i18n import t
from ..messages import NOT_FOUND
from ..routes import get_routes


def not_found() -> rx.Component:
    """What a path that is no page shows."""
    return page_shell(
        t("Page not found"),
        rx.el.p(t(NOT_FOUND), class_name="muted", id="not-found"),
        rx.el.a(t("Go to the home page"), href=get_routes().verify, id="home-link"),
    )
