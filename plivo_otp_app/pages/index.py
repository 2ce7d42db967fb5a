"""The phone-verification page (`Routes.verify`, `/` by default)."""

from __future__ import annotations

import reflex as rx

from ..components import page_shell, verification_flow
from ..i18n import t
from ..routes import get_routes


def index() -> rx.Component:
    """The phone-verification page."""
    return page_shell(
        t("Verify your phone"),
        rx.el.p(t("We will send you a one-time code."), class_name="muted"),
        verification_flow(),
        current=get_routes().verify,
    )
