"""The verification flow's pieces: phone form, code form, success panel."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventType

from ..config import get_settings
from ..phone import country_options
from ..state import VerifyState
from .fields import not_hydrated, submit_button
from .layout import notices, sandbox_banner
from .theme import themed


def country_select() -> rx.Component:
    """Native select of countries, default from config."""
    settings = get_settings()
    return rx.el.select(
        *[rx.el.option(label, value=code) for code, label in country_options(settings.otp.allowed_countries)],
        id="country",
        name="country",
        default_value=settings.otp.default_country,
        aria_label="Country",
    )


def channel_select() -> rx.Component:
    """Text message (default) or voice call; named by the visible `<label for="channel">` beside it.

    No `aria-label`: one that differs from the visible label ("Send the code by") hides it
    from a speech user who says what they see (WCAG 2.5.3 Label in Name).
    """
    return rx.el.select(
        rx.el.option("Text message (SMS)", value="sms"),
        rx.el.option("Voice call", value="voice"),
        id="channel",
        name="channel",
        default_value="sms",
    )


def phone_form() -> rx.Component:
    """Country, number and channel, then "Send code"."""
    return rx.el.form(
        rx.el.label("Phone number", html_for="phone"),
        rx.el.div(
            country_select(),
            rx.el.input(
                id="phone",
                name="phone",
                type="tel",
                auto_complete="tel",
                placeholder="(415) 555-2671",
                default_value=VerifyState.phone,
                max_length=40,
                required=True,
            ),
            class_name="row",
        ),
        rx.el.label("Send the code by", html_for="channel"),
        channel_select(),
        submit_button("Send code", "Sending…", VerifyState.loading, id="send-otp"),
        on_submit=VerifyState.send_code,
        class_name="stack",
    )


def _secondary(
    label: rx.Var[str] | str,
    element_id: str,
    handler: EventType[()] | None,
    disabled: rx.Var[bool] | bool,
    **props: Any,
) -> rx.Component:
    return rx.el.button(label, id=element_id, type="button", disabled=disabled, on_click=handler, **props)


def resend_controls(change_number: EventType[()] | None = None) -> rx.Component:
    """Resend (with its countdown), call me instead, and optionally `change_number` (a handler).

    Once the code is dead (expired, too many wrong tries) the resend button offers a new
    code instead, counting down the wait there is before one can be sent.
    """
    waiting = (VerifyState.resend_in > 0) | VerifyState.loading
    countdown = f" in {VerifyState.resend_wait}"
    label = rx.cond(
        VerifyState.code_dead,
        rx.cond(VerifyState.resend_in > 0, "Send a new code" + countdown, "Send a new code"),
        rx.cond(VerifyState.resend_in > 0, "Resend code" + countdown, "Resend code"),
    )
    other_number = _secondary(
        "Use a different number", "change-number", change_number, VerifyState.loading, class_name="link"
    )
    return rx.el.div(
        _secondary(
            label,
            "resend-otp",
            VerifyState.resend_code,
            waiting,
            class_name=rx.cond(VerifyState.code_dead & ~waiting, "primary", ""),
        ),
        _secondary("Call me instead", "call-me", VerifyState.call_me, waiting),
        *([other_number] if change_number is not None else []),
        class_name="row wrap",
    )


def otp_form(*extras: rx.Component, change_number: EventType[()] | None = None) -> rx.Component:
    """One code field made for autofill and paste, `extras` (e.g. "remember this device"), then "Verify".

    The field takes the code as an SMS shows it ("117 763", "117-763"): room for the
    separators, which the service drops.
    """
    length = get_settings().otp.code_length
    return rx.el.div(
        rx.el.form(
            rx.el.label(f"Enter the {length}-digit code", html_for="otp"),
            rx.el.input(
                id="otp",
                name="otp",
                type="text",
                auto_complete="one-time-code",
                input_mode="numeric",
                pattern=f"[0-9]([ \\-]?[0-9]){{{length - 1}}}",
                max_length=2 * length - 1,
                min_length=length,
                placeholder="•" * length,
                required=True,
                auto_focus=True,
                disabled=VerifyState.code_dead,
                class_name="otp",
            ),
            *extras,
            rx.el.button(
                rx.cond(VerifyState.loading, "Verifying…", "Verify"),
                type="submit",
                disabled=VerifyState.loading | VerifyState.code_dead | not_hydrated(),
                class_name=rx.cond(VerifyState.code_dead, "", "primary"),
                id="verify-otp",
            ),
            on_submit=VerifyState.verify_code,
            class_name="stack",
        ),
        resend_controls(change_number),
        class_name="stack",
    )


def verified_panel() -> rx.Component:
    """Success, with the masked number."""
    return rx.el.div(
        rx.el.h2("Phone number verified"),
        rx.el.p(VerifyState.masked_phone, class_name="masked"),
        rx.el.button(
            "Verify another number",
            id="start-over",
            type="button",
            on_click=VerifyState.reset_flow,
        ),
        id="verified",
        class_name="success stack",
        role="status",
    )


def verification_flow() -> rx.Component:
    """The whole flow: phone form, then code form, then success; the sandbox hint with it."""
    return themed(
        rx.cond(
            VerifyState.verified,
            verified_panel(),
            rx.cond(VerifyState.code_sent, otp_form(change_number=VerifyState.change_number), phone_form()),
        ),
        notices(),
        sandbox_banner(),
        class_name="stack potp-flow",
    )
