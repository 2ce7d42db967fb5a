"""Form pieces shared by every page: labelled inputs and submit buttons.

A state var read on its class is a Var, but a type checker reads `loading: bool = False`
as a bool: the pieces take either (`rx.Var[bool] | bool`), and a plain value works too.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..i18n import t

#: A label: a `t()` Var (or a plain string, for data).
Label = rx.Var[str] | str


def not_hydrated() -> rx.Var[bool]:
    """True until the page is live (hydrated: its events reach the server).

    Reflex declares `State.is_hydrated` as a plain bool, but read on the class it is the
    state's Var, which `Var.create` returns unchanged, typed as a Var.
    """
    return ~rx.Var.create(rx.State.is_hydrated)


def submit_button(
    label: Label, busy_label: Label, loading: rx.Var[bool] | bool, **props: Any
) -> rx.Component:
    """A submit button, disabled while busy and until the page is live (no native submit)."""
    return rx.el.button(
        rx.cond(loading, busy_label, label),
        type="submit",
        disabled=loading | not_hydrated(),
        class_name="primary",
        **props,
    )


def error_props(
    error: rx.Var[str] | str, error_field: rx.Var[str] | str, field_name: str, error_id: str = "error"
) -> dict[str, Any]:
    """`aria-invalid` and `aria-describedby` (the error line's id) for a field, while the
    shown error is about it (`error_field`, from `OtpError.field`): a screen reader says
    the field is in error and why when it reaches the field (WCAG 3.3.1, 1.3.1)."""
    about = (rx.Var.create(error) != "") & (rx.Var.create(error_field) == field_name)
    return {
        "aria_invalid": rx.cond(about, "true", "false"),
        "aria_describedby": rx.cond(about, error_id, None),
    }


def field(label: Label, element_id: str, **props: Any) -> rx.Component:
    """A label and its input; the input's name is its id with dashes as underscores."""
    return rx.fragment(
        rx.el.label(label, html_for=element_id),
        rx.el.input(id=element_id, name=element_id.replace("-", "_"), **props),
    )


def password_field(
    element_id: str = "password", label: Label | None = None, new: bool = False, **props: Any
) -> rx.Component:
    """A password input that password managers understand (labelled "Password" unless told).

    `props` go to the input.
    """
    return field(
        t("Password") if label is None else label,
        element_id,
        type="password",
        auto_complete="new-password" if new else "current-password",
        max_length=128,
        required=True,
        **props,
    )


def error_line(
    text: rx.Var[str] | str, element_id: str = "error", silent: rx.Var[bool] | bool = False
) -> rx.Component:
    """An error sentence, shown when there is one; an alert unless `silent` (a countdown, which
    would be read out every second: the page's `live_region` says it once instead)."""
    role = {"role": rx.cond(silent, None, "alert")}  # no role at all while silent
    return rx.cond(text != "", rx.el.p(text, id=element_id, class_name="notice error", custom_attrs=role))


def live_region(text: rx.Var[str] | str, element_id: str) -> rx.Component:
    """A polite live region, always in the page (a region added with its text is not read):
    a screen reader says each new `text` once, when it is idle; seen by nobody else."""
    return rx.el.p(text, id=element_id, role="status", class_name="visually-hidden")


def message_line(text: rx.Var[str] | str, element_id: str = "message") -> rx.Component:
    """An information sentence, shown when there is one."""
    return rx.cond(text != "", rx.el.p(text, id=element_id, class_name="notice", role="status"))
