"""The theme switch in the site header, and the themed root every product component sits in.

Every rule of `styles.css` is under the `potp` class, and the colours are custom properties
set on it: a host page around the components keeps its own look. `data-theme` carries the
visitor's choice ("system" lets `prefers-color-scheme` decide).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..i18n import t
from ..state import ThemeState


def themed(*children: rx.Component, class_name: str = "", **props: Any) -> rx.Component:
    """A `<div class="potp ...">` with the visitor's theme: the root of a product component."""
    return rx.el.div(
        *children,
        class_name=f"potp {class_name}".strip(),
        custom_attrs={"data-theme": ThemeState.theme},
        **props,
    )


def theme_switch() -> rx.Component:
    """`#theme`: system, light or dark; the choice sticks (a cookie) across pages and visits."""
    return rx.el.div(
        rx.el.label(t("Theme"), html_for="theme", class_name="potp-theme-label"),
        rx.el.select(
            rx.el.option(t("System"), value="system"),
            rx.el.option(t("Light"), value="light"),
            rx.el.option(t("Dark"), value="dark"),
            id="theme",
            value=ThemeState.theme,
            on_change=ThemeState.choose,
            class_name="potp-theme-select",
        ),
        class_name="potp-theme",
    )
