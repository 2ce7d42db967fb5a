"""Sign-up and log-in pieces. Their code steps are the shared OTP flow's components."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventType
from reflex_components_core.el.elements.forms import CheckboxInput

from ..config import get_settings
from ..i18n import t, tn
from ..routes import get_routes
from ..state import LoginState, SignupState, VerifyState
from .fields import error_line, error_props, field, password_field, submit_button
from .layout import notices, sandbox_banner
from .theme import themed
from .verify import channel_select, otp_form, phone_fields, phone_form


def signup_form() -> rx.Component:
    """Username, optional email, password and phone."""
    minimum = get_settings().accounts.password_min_length
    return rx.el.form(
        field(
            t("Username"),
            "username",
            auto_complete="username",
            max_length=64,  # UTF-16 units in the browser; the server counts 3-32 characters in NFC
            required=True,
            default_value=SignupState.username,
            **error_props(SignupState.error, SignupState.error_field, "username"),
        ),
        field(
            t("Email (optional)"),
            "email",
            type="email",
            auto_complete="email",
            max_length=254,
            default_value=SignupState.email,
            **error_props(SignupState.error, SignupState.error_field, "email"),
        ),
        password_field(new=True, **error_props(SignupState.error, SignupState.error_field, "password")),
        rx.el.p(
            t("At least {minimum} characters: a few unrelated words work well.", minimum=minimum),
            class_name="muted",
        ),
        phone_fields(
            t("Phone number"),
            auto_complete="tel",
            **error_props(SignupState.error, SignupState.error_field, "phone"),
        ),
        rx.el.label(t("Send the code by"), html_for="channel"),
        channel_select(),
        submit_button(t("Create account"), t("Creating…"), SignupState.loading, id="signup-submit"),
        error_line(SignupState.error),
        rx.cond(
            SignupState.taken,
            rx.el.a(
                t("Log in to your account"),
                href=get_routes().login,
                id="taken-login",
                class_name="notice-link",
            ),
        ),
        on_submit=SignupState.submit,
        class_name="stack",
    )


def login_form() -> rx.Component:
    """Username (or email) and password."""
    return rx.el.form(
        field(
            t("Username or email"),
            "username",
            auto_complete="username",
            max_length=254,
            required=True,
            **error_props(LoginState.error, LoginState.error_field, "username"),
        ),
        password_field(**error_props(LoginState.error, LoginState.error_field, "password")),
        rx.el.a(t("Forgot your password?"), href=get_routes().reset_password, id="forgot-password"),
        submit_button(t("Log in"), t("Checking…"), LoginState.loading, id="login-submit"),
        error_line(LoginState.error),
        on_submit=LoginState.submit,
        class_name="stack",
    )


def remember_device() -> rx.Component:
    """The "skip the code on this browser" choice."""
    days = get_settings().accounts.remember_device_days
    return rx.el.label(
        CheckboxInput.create(  # rx.el.input's stub types on_change as a value, not `checked`
            type="checkbox",
            id="remember-device",
            name="remember_device",
            on_change=VerifyState.set_remember_device,
        ),
        " ",
        tn("Remember this device for {count} day", "Remember this device for {count} days", days),
        class_name="check",
    )


def backup_code_form(remember: bool = True) -> rx.Component:
    """A backup code instead of the SMS code (at login, with the "remember this device" choice)."""
    return rx.el.form(
        field(
            t("Backup code"),
            "backup-code",
            auto_complete="off",
            placeholder="ABCD-EFGH-JKLM-NPQR",
            max_length=64,
            required=True,
            auto_focus=True,
            **error_props(VerifyState.error, VerifyState.error_field, "code"),
        ),
        remember_device() if remember else rx.fragment(),
        submit_button(t("Verify"), t("Verifying…"), VerifyState.loading, id="verify-otp"),
        on_submit=VerifyState.verify_backup_code,
        class_name="stack",
    )


def login_code_step() -> rx.Component:
    """The second step of a login: the SMS code, or a backup code."""
    return rx.el.div(
        rx.el.p(t("Enter the code we sent to {phone}.", phone=VerifyState.masked_phone)),
        rx.cond(VerifyState.backup_mode, backup_code_form(), otp_form(remember_device())),
        backup_toggle(),
        notices(),
        class_name="stack",
    )


def backup_toggle() -> rx.Component:
    """Switch the code step between the SMS code and a backup code (`#use-backup-code`)."""
    return rx.el.button(
        rx.cond(VerifyState.backup_mode, t("Use the SMS code instead"), t("Use a backup code")),
        id="use-backup-code",
        type="button",
        class_name="link",
        on_click=VerifyState.toggle_backup_mode,
    )


def code_result() -> rx.Component:
    """What a finished code step says (`#message`); it takes the focus, the form having gone."""
    return rx.el.p(
        VerifyState.message,
        id="message",
        class_name="notice",
        role="status",
        tab_index=-1,
        on_mount=rx.set_focus("message"),
    )


def code_step(change_number: EventType[()] | None = None) -> rx.Component:
    """The code step of a sign-up or an account change; its result once done."""
    return rx.el.div(
        rx.cond(
            VerifyState.verified, code_result(), rx.fragment(otp_form(change_number=change_number), notices())
        ),
        class_name="stack",
    )


def signup_number_step() -> rx.Component:
    """A sign-up's code step with the number mistyped: the account waits for another number."""
    return rx.el.div(
        rx.el.p(t("Your account is saved. Which number should get its code?"), class_name="muted"),
        phone_form(),
        notices(),
        class_name="stack",
    )


def login_flow() -> rx.Component:
    """Password first, then the second factor where it is on; the sandbox hint with it."""
    return themed(
        rx.cond(
            VerifyState.code_sent & (VerifyState.flow == "login"),
            login_code_step(),
            login_form(),
        ),
        sandbox_banner(),
        class_name="stack potp-flow",
    )


def signup_flow() -> rx.Component:
    """The account form, then the phone's code; the sandbox hint with it."""
    return themed(
        rx.cond(
            VerifyState.flow == "signup",
            rx.cond(
                VerifyState.code_sent,
                code_step(change_number=VerifyState.change_number),
                signup_number_step(),
            ),
            signup_form(),
        ),
        sandbox_banner(),
        class_name="stack potp-flow",
    )
