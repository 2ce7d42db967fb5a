"""The verification flow's pieces: phone form, code form, success panel."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventType

from ..config import get_settings
from ..i18n import t
from ..state import VerifyState
from .challenge import challenge_solver
from .fields import error_props, not_hydrated, submit_button
from .layout import notices, sandbox_banner
from .theme import themed

#: How long the number field waits after a key before it is formatted (and the search filters).
TYPING_PAUSE_MS = 250


def solving() -> rx.Var[bool]:
    """A send waits for the page to solve its challenge: its buttons wait too."""
    return rx.Var.create(VerifyState.challenge) != ""


def country_select() -> rx.Component:
    """The country picker: a native `<select>` (keyboard, screen readers and phones' own
    pickers for free) showing only the flag and dialing code while closed ("🇬🇧 +44").

    The select lies transparent over that text (`.country-picker`, CSS): what it announces
    is the option ("United Kingdom (+44)"), what it shows is the code, never cut off.
    """
    return rx.el.div(
        rx.el.span(VerifyState.country_shown, class_name="country-shown", aria_hidden="true"),
        rx.el.select(
            rx.foreach(
                VerifyState.country_choices,
                lambda choice: rx.el.option(choice[1], value=choice[0], key=choice[0]),
            ),
            id="country",
            name="country",
            value=VerifyState.country,
            on_change=VerifyState.pick_country,
            aria_label=t("Country"),
        ),
        class_name="country-picker",
    )


def country_search() -> rx.Component:
    """`#country-search`: a name, a dialing code or an ISO code ("spain", "+34", "ES") narrows
    the picker to the matches and chooses the best; the result is read out politely.

    The field belongs to no form (`form` names itself, not a form): Enter in it submits
    nothing, it moves on to the number instead.
    """
    return rx.el.div(
        rx.el.label(t("Search countries"), html_for="country-search"),
        rx.el.input(
            id="country-search",
            type="search",
            form="country-search",
            auto_complete="off",
            placeholder=t("Name, +code or ISO code"),
            max_length=40,
            aria_controls="country",
            aria_describedby="country-search-status",
            on_change=VerifyState.search_country.debounce(TYPING_PAUSE_MS),
            on_key_down=VerifyState.search_key,
        ),
        rx.el.p(VerifyState.country_status, id="country-search-status", class_name="muted", role="status"),
        class_name="country-search",
    )


def phone_fields(label: rx.Var[str] | str, **input_props: Any) -> rx.Component:
    """The number's label, the country picker beside the number, and the country search.

    The number is formatted as its country writes it while it is typed, and a `+44` or
    `0044` at its start switches the picker (`VerifyState.phone_typed`). Every form that
    takes a number (the verification, sign-up, the account's new number) uses these.

    The field shows `VerifyState.phone` through Reflex's debounced input: it reports a
    pause in typing, and takes the formatted number back only while no key has come
    since (a key pressed during the round trip wins; nothing typed is lost).
    """
    return rx.fragment(
        rx.el.label(label, html_for="phone"),
        rx.el.div(
            country_select(),
            rx.debounce_input(
                rx.el.input(
                    id="phone",
                    name="phone",
                    type="tel",
                    dir="ltr",  # a number reads left to right in an Arabic page too
                    value=VerifyState.phone,
                    max_length=40,
                    required=True,
                    on_change=VerifyState.phone_typed,
                    **input_props,
                ),
                debounce_timeout=TYPING_PAUSE_MS,
            ),
            class_name="row phone-row",
        ),
        country_search(),
    )


def channel_select() -> rx.Component:
    """Text message (default) or voice call; named by the visible `<label for="channel">` beside it.

    No `aria-label`: one that differs from the visible label ("Send the code by") hides it
    from a speech user who says what they see (WCAG 2.5.3 Label in Name).
    """
    return rx.el.select(
        rx.el.option(t("Text message (SMS)"), value="sms"),
        rx.el.option(t("Voice call"), value="voice"),
        id="channel",
        name="channel",
        default_value="sms",
    )


def phone_form() -> rx.Component:
    """Country, number and channel, then "Send code"; the challenge's solver beside the form."""
    form = rx.el.form(
        phone_fields(
            t("Phone number"),
            auto_complete="tel",
            **error_props(VerifyState.error, VerifyState.error_field, "phone"),
        ),
        rx.el.label(t("Send the code by"), html_for="channel"),
        channel_select(),
        submit_button(t("Send code"), t("Sending…"), VerifyState.loading | solving(), id="send-otp"),
        on_submit=VerifyState.send_code,
        class_name="stack",
    )
    return rx.fragment(form, challenge_solver())


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
    waiting = (VerifyState.resend_in > 0) | VerifyState.loading | solving()
    wait = VerifyState.resend_wait
    label = rx.cond(
        VerifyState.code_dead,
        rx.cond(VerifyState.resend_in > 0, t("Send a new code in {wait}", wait=wait), t("Send a new code")),
        rx.cond(VerifyState.resend_in > 0, t("Resend code in {wait}", wait=wait), t("Resend code")),
    )
    other_number = _secondary(
        t("Use a different number"), "change-number", change_number, VerifyState.loading, class_name="link"
    )
    return rx.el.div(
        _secondary(
            label,
            "resend-otp",
            VerifyState.resend_code,
            waiting,
            class_name=rx.cond(VerifyState.code_dead & ~waiting, "primary", ""),
        ),
        rx.cond(
            VerifyState.call_offered,
            _secondary(
                t("Call me instead"),
                "call-instead",
                VerifyState.call_instead,
                VerifyState.loading,
                class_name="primary",
            ),
            _secondary(t("Call me instead"), "call-me", VerifyState.call_me, waiting),
        ),
        *([other_number] if change_number is not None else []),
        class_name="row wrap",
    )


#: How often the code step asks whether the provider reported its text undelivered.
DELIVERY_POLL_SECONDS = 2


def delivery_watch() -> rx.Component:
    """`#delivery-watch`: while the code's delivery is not settled, ask every few seconds whether
    the text came through (a hidden `rx.moment` ticking, as the sandbox outbox does); none when
    `OTP_FALLBACK=off`."""
    if get_settings().otp.fallback == "off":
        return rx.fragment()
    return rx.cond(
        VerifyState.delivery_settled,
        rx.fragment(),
        rx.moment(
            interval=DELIVERY_POLL_SECONDS * 1000,
            on_change=VerifyState.check_delivery,
            id="delivery-watch",
            class_name="potp-tick",
            aria_hidden="true",
        ),
    )


def entered_number(change_number: EventType[()] | None) -> rx.Component:
    """The number the code went to, in full, with `#edit-phone` back to the phone form: only
    where it was typed in this tab (`VerifyState.entered_phone`); an account's stays masked."""
    if change_number is None:
        return rx.fragment()
    return rx.cond(
        VerifyState.entered_phone != "",
        rx.el.p(
            rx.el.strong(VerifyState.entered_phone, id="entered-phone"),
            " ",
            rx.el.button(
                t("edit"),
                id="edit-phone",
                type="button",
                class_name="link",
                aria_label=t("edit the phone number"),
                disabled=VerifyState.loading,
                on_click=change_number,
            ),
            class_name="entered-phone",
        ),
    )


def otp_form(*extras: rx.Component, change_number: EventType[()] | None = None) -> rx.Component:
    """One code field made for autofill and paste, `extras` (e.g. "remember this device"), then "Verify".

    The field takes the code as an SMS shows it ("117 763", "117-763"): room for the
    separators, which the service drops. It submits itself once a whole code is in it
    (`VerifyState.code_typed`); "Verify" stays for those who press it, and a code already
    refused is not sent twice.
    """
    length = get_settings().otp.code_length
    return rx.el.div(
        entered_number(change_number),
        rx.el.form(
            rx.el.label(t("Enter the {length}-digit code", length=length), html_for="otp"),
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
                # A new input for each code sent: it takes the focus again after a resend.
                key=VerifyState.codes_sent,
                auto_focus=True,
                disabled=VerifyState.code_dead,
                class_name="otp",
                dir="ltr",
                **error_props(VerifyState.error, VerifyState.error_field, "code"),
                on_change=VerifyState.code_typed,
            ),
            *extras,
            rx.el.button(
                rx.cond(VerifyState.loading, t("Verifying…"), t("Verify")),
                type="submit",
                disabled=VerifyState.loading | VerifyState.code_dead | not_hydrated(),
                class_name=rx.cond(VerifyState.code_dead, "", "primary"),
                id="verify-otp",
            ),
            on_submit=VerifyState.verify_code,
            class_name="stack",
        ),
        resend_controls(change_number),
        challenge_solver(),
        delivery_watch(),
        class_name="stack",
    )


def verified_panel() -> rx.Component:
    """Success, with the masked number; it takes the focus (the form that had it is gone)."""
    return rx.el.div(
        rx.el.h2(t("Phone number verified")),
        rx.el.p(VerifyState.masked_phone, class_name="masked", dir="ltr"),
        rx.el.button(
            t("Verify another number"),
            id="start-over",
            type="button",
            on_click=VerifyState.reset_flow,
        ),
        id="verified",
        class_name="success stack",
        role="status",
        tab_index=-1,
        on_mount=rx.set_focus("verified"),
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
