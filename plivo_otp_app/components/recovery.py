"""The password reset's pieces: who forgot, the code (the shared OTP flow's), the new password."""

from __future__ import annotations

import reflex as rx

from ..config import get_settings
from ..i18n import t
from ..routes import get_routes
from ..state import RecoveryState, VerifyState
from .fields import error_line, message_line, not_hydrated, password_field
from .layout import notices
from .verify import otp_form


def _submit(label: rx.Var[str], busy: rx.Var[str], element_id: str) -> rx.Component:
    return rx.el.button(
        rx.cond(RecoveryState.loading, busy, label),
        type="submit",
        disabled=RecoveryState.loading | not_hydrated(),
        class_name="primary",
        id=element_id,
    )


def reset_name_form() -> rx.Component:
    """The username or email of the account whose password was forgotten."""
    return rx.el.form(
        rx.el.p(
            t("Enter your username or email. We will text a code to the account's verified phone."),
            class_name="muted",
        ),
        rx.el.label(t("Username or email"), html_for="username"),
        rx.el.input(id="username", name="username", auto_complete="username", max_length=254, required=True),
        _submit(t("Send code"), t("Sending…"), "reset-start"),
        error_line(RecoveryState.error),
        rx.el.p(rx.el.a(t("Back to log in"), href=get_routes().login, id="reset-back"), class_name="muted"),
        on_submit=RecoveryState.submit_name,
        class_name="stack",
    )


def reset_password_form() -> rx.Component:
    """The new password, and a backup code when two-factor login is on."""
    minimum = get_settings().accounts.password_min_length
    return rx.el.form(
        password_field("new-password", t("New password"), new=True, auto_focus=True),
        rx.el.p(
            t("At least {minimum} characters: a few unrelated words work well.", minimum=minimum),
            class_name="muted",
        ),
        rx.cond(
            RecoveryState.backup_required,
            rx.fragment(
                rx.el.label(t("Backup code"), html_for="backup-code"),
                rx.el.input(
                    id="backup-code",
                    name="backup_code",
                    auto_complete="off",
                    placeholder="ABCD-EFGH-JKLM-NPQR",
                    max_length=64,
                    required=True,
                ),
                rx.el.p(
                    t("Two-factor login is on: a backup code is needed as well as the phone."),
                    class_name="muted",
                ),
            ),
        ),
        _submit(t("Change password"), t("Changing…"), "reset-submit"),
        error_line(RecoveryState.error),
        on_submit=RecoveryState.submit_password,
        class_name="stack",
    )


def reset_done() -> rx.Component:
    """The password is changed: on to the login page."""
    return rx.el.div(
        message_line(RecoveryState.message, "reset-done"),
        rx.el.a(t("Log in"), href=get_routes().login, id="reset-login", class_name="notice-link"),
        class_name="stack",
    )


def reset_code_step() -> rx.Component:
    """The code sent to the account's phone (the shared OTP form)."""
    return rx.el.div(otp_form(), notices(), class_name="stack")


def reset_password_flow() -> rx.Component:
    """Name, then code, then the new password, then done."""
    return rx.cond(
        RecoveryState.step == "done",
        reset_done(),
        rx.cond(
            RecoveryState.step == "password",
            reset_password_form(),
            rx.cond(
                VerifyState.code_sent & (VerifyState.flow == "reset-password"),
                reset_code_step(),
                reset_name_form(),
            ),
        ),
    )
