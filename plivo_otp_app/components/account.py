"""The account page's sections."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventType, key_event
from reflex_components_core.el.elements.typography import Div

from ..i18n import t
from ..state import AccountState, VerifyState
from .auth import backup_code_form, backup_toggle, code_step
from .fields import Label, error_line, error_props, message_line, password_field, submit_button
from .layout import notices, sandbox_banner
from .security_events import security_events_section
from .theme import themed
from .verify import channel_select, phone_fields


def _section(title: Label, *children: rx.Component) -> rx.Component:
    return rx.el.section(rx.el.h2(title, class_name="section-title"), *children, class_name="stack section")


def _action(label: Label, element_id: str, handler: EventType[()], **props: Any) -> rx.Component:
    return rx.el.button(label, id=element_id, type="button", on_click=handler, **props)


class _KeyedDiv(Div):
    """A `<div>` whose key presses reach the state (Reflex gives `on_key_down` to inputs only)."""

    on_key_down: rx.EventHandler[key_event]


def _panel(name: str, focus: str, *children: rx.Component, **props: Any) -> rx.Component:
    """An action's panel (`#panel-<name>`): it takes the focus when it opens (`focus`, an id
    inside it), and Escape closes it, the focus going back to the button that opened it."""
    return _KeyedDiv.create(
        *children,
        id=f"panel-{name}",
        class_name="stack account-panel",
        on_mount=rx.set_focus(focus),
        # Only whether the key was Escape reaches the server, never which key (a password's).
        on_key_down=lambda key, _modifiers: AccountState.panel_key(key == "Escape"),
        **props,
    )


def _password_form(
    handler: EventType[dict[str, Any]],
    submit_id: str,
    label: Label,
    *fields: rx.Component,
    name: str,
    focus: str = "password",
) -> rx.Component:
    return _panel(
        name,
        focus,
        rx.el.form(
            *fields,
            password_field(
                label=t("Your password"),
                **error_props(AccountState.error, AccountState.error_field, "password"),
            ),
            submit_button(label, t("Working…"), AccountState.loading, id=submit_id),
            _action(t("Cancel"), f"{submit_id}-cancel", AccountState.close_panel, class_name="link"),
            on_submit=handler,
            class_name="stack",
        ),
    )


def _new_number_fields() -> tuple[rx.Component, ...]:
    return (
        phone_fields(
            t("New phone number"), **error_props(AccountState.error, AccountState.error_field, "phone")
        ),
        rx.el.label(t("Send the code by"), html_for="channel"),
        channel_select(),
    )


def _change_phone_panels() -> rx.Component:
    """Without 2FA: the new number and the password. With it: the password, then the current
    factor (the code step), then the new number (`#new-phone-form`)."""
    return rx.fragment(
        rx.cond(
            AccountState.panel == "change-phone",
            rx.cond(
                AccountState.phone_change_needs_factor,
                _password_form(
                    AccountState.confirm_phone_change,
                    "send-current-code",
                    t("Send a code to my current phone"),
                    rx.el.p(
                        t("First confirm it is you: we text a code to your current number."),
                        class_name="muted",
                    ),
                    name="change-phone",
                ),
                _password_form(
                    AccountState.change_phone,
                    "send-change-code",
                    t("Send a code to the new number"),
                    *_new_number_fields(),
                    name="change-phone",
                    focus="phone",
                ),
            ),
        ),
        rx.cond(
            AccountState.panel == "new-phone",
            _panel(
                "new-phone",
                "phone",
                rx.el.form(
                    *_new_number_fields(),
                    submit_button(
                        t("Send a code to the new number"),
                        t("Working…"),
                        AccountState.loading,
                        id="send-change-code",
                    ),
                    _action(
                        t("Cancel"), "send-change-code-cancel", AccountState.close_panel, class_name="link"
                    ),
                    on_submit=AccountState.send_new_phone_code,
                    class_name="stack",
                    id="new-phone-form",
                ),
            ),
        ),
    )


def phone_section() -> rx.Component:
    """The number (masked), whether it is verified, and changing it."""
    return _section(
        t("Phone"),
        rx.el.p(
            rx.el.span(AccountState.masked_phone, class_name="masked", id="account-phone", dir="ltr"),
            " ",
            rx.cond(AccountState.is_phone_verified, t("(verified)"), t("(not verified)")),
        ),
        rx.el.div(
            rx.cond(
                ~AccountState.is_phone_verified,
                _action(t("Verify this number"), "verify-phone", AccountState.verify_phone),
            ),
            _action(t("Change phone number"), "change-phone", AccountState.open_panel("change-phone")),
            class_name="row wrap",
        ),
        _change_phone_panels(),
    )


def two_factor_section() -> rx.Component:
    """Two-factor login: on needs a fresh code; off needs the password and a code."""
    return _section(
        t("Two-factor login"),
        rx.el.p(
            t("A code by SMS at every login:"),
            " ",
            rx.el.strong(rx.cond(AccountState.two_factor_enabled, t("on"), t("off")), id="two-factor-status"),
        ),
        rx.cond(
            AccountState.two_factor_enabled,
            _action(t("Turn off"), "disable-2fa", AccountState.open_panel("disable-2fa")),
            _action(
                t("Turn on"), "enable-2fa", AccountState.enable_2fa, disabled=~AccountState.is_phone_verified
            ),
        ),
        rx.cond(
            AccountState.panel == "disable-2fa",
            _password_form(
                AccountState.disable_2fa, "confirm-disable-2fa", t("Send a code"), name="disable-2fa"
            ),
        ),
    )


def _copy_codes() -> list[Any]:
    """The codes on the page onto the clipboard, one a line: an event compiled into the page
    (the same from the server would be a script to evaluate, which the CSP refuses)."""
    codes = rx.Var.create(AccountState.new_backup_codes).to(list[str]).join("\n")
    return [rx.set_clipboard(codes), AccountState.codes_were_copied]


def backup_codes_section() -> rx.Component:
    """How many codes are left; a new set, shown once."""
    return _section(
        t("Backup codes"),
        rx.el.p(
            t("Unused backup codes:"),
            " ",
            rx.el.strong(AccountState.backup_codes_left, id="backup-codes-left"),
        ),
        rx.el.p(t("Each signs you in once when your phone is not at hand."), class_name="muted"),
        _action(
            t("Generate new codes"),
            "generate-backup-codes",
            AccountState.open_panel("backup-codes"),
            disabled=~AccountState.is_phone_verified,
        ),
        rx.cond(
            AccountState.panel == "backup-codes",
            _password_form(
                AccountState.generate_backup_codes,
                "confirm-backup-codes",
                t("Send a code to my phone"),
                rx.el.p(
                    t("We text a code to your phone (or you can use a backup code) before the new set."),
                    class_name="muted",
                ),
                name="backup-codes",
            ),
        ),
        rx.cond(
            AccountState.new_backup_codes.length() > 0,
            rx.el.div(
                rx.el.ol(
                    rx.foreach(AccountState.new_backup_codes, lambda c: rx.el.li(rx.el.code(c))),
                    id="backup-codes",
                ),
                rx.el.div(
                    _action(t("Copy"), "copy-codes", _copy_codes()),
                    _action(t("Download"), "download-codes", AccountState.download_backup_codes),
                    _action(
                        t("I have saved them"),
                        "hide-backup-codes",
                        AccountState.hide_backup_codes,
                        class_name="primary",
                    ),
                    class_name="row wrap",
                ),
                rx.el.p(
                    rx.cond(AccountState.codes_copied, rx.el.span(t("Copied. Keep them somewhere safe."))),
                    id="codes-copied",
                    class_name="muted",
                    role="status",
                ),
                class_name="stack codes",
            ),
        ),
    )


def devices_section() -> rx.Component:
    """Browsers that skip the SMS step, each revocable."""
    return _section(
        t("Remembered devices"),
        rx.cond(
            # The state declares a plain list: `Var.create` returns its Var unchanged, typed as an array.
            rx.Var.create(AccountState.devices).length() > 0,
            rx.el.ul(
                rx.foreach(
                    AccountState.devices,
                    lambda d: rx.el.li(
                        t("{device} (until {date})", device=d["label"], date=d["until"]),
                        " ",
                        _action(t("Forget"), "revoke-device-" + d["id"], AccountState.revoke_device(d["id"])),
                    ),
                ),
                id="devices",
            ),
            rx.el.p(t("None."), class_name="muted"),
        ),
    )


def sessions_section() -> rx.Component:
    """Where the account is signed in; sign out elsewhere or everywhere."""
    return _section(
        t("Active sessions"),
        rx.el.ul(rx.foreach(AccountState.sessions, _session_item), id="sessions"),
        rx.el.div(
            _action(t("Sign out other sessions"), "sign-out-others", AccountState.sign_out_others),
            _action(t("Sign out everywhere"), "sign-out-everywhere", AccountState.open_panel("sign-out-all")),
            class_name="row wrap",
        ),
        rx.cond(AccountState.panel == "sign-out-all", _sign_out_all_panel()),
    )


def _sign_out_all_panel() -> rx.Component:
    """The question "Sign out everywhere" asks first (`#confirm-sign-out-all`); it takes the focus."""
    return _panel(
        "sign-out-all",
        "sign-out-all-question",
        rx.el.p(
            t("Sign out of every session, this browser included?"),
            id="sign-out-all-question",
            tab_index=-1,
        ),
        rx.el.div(
            _action(
                t("Yes, sign out everywhere"),
                "confirm-sign-out-all",
                AccountState.sign_out_everywhere,
                class_name="primary",
            ),
            _action(t("Cancel"), "cancel-sign-out-all", AccountState.close_panel, class_name="link"),
            class_name="row wrap",
        ),
        role="group",
        aria_labelledby="sign-out-all-question",
    )


def _session_item(session: Any) -> rx.Component:
    """ "Chrome on Linux", since when and from where, and whether it is this browser."""
    return rx.el.li(
        rx.el.div(
            rx.el.span(session["device"], class_name="device-name"),
            rx.el.span(session["since"], " · ", session["where"], class_name="device-meta"),
            class_name="stack device",
        ),
        rx.cond(session["current"] != "", rx.el.span(session["current"], class_name="device-current")),
    )


def account_code_step() -> rx.Component:
    """The code step of an account change, in place of the sections' notices.

    Where the step confirms the current factor (`#current-factor`: a phone change, new backup
    codes, 2FA off), a backup code can stand in for the SMS code (`#use-backup-code`).
    """
    return rx.el.div(
        rx.cond(
            ~VerifyState.verified,
            rx.cond(
                VerifyState.backup_mode,
                rx.el.p(t("Enter one of your unused backup codes.")),
                rx.el.p(t("Enter the code we sent to {phone}.", phone=VerifyState.masked_phone)),
            ),
        ),
        rx.cond(
            VerifyState.backup_mode & ~VerifyState.verified,
            rx.el.div(backup_code_form(remember=False), notices(), class_name="stack"),
            code_step(),
        ),
        rx.cond(VerifyState.backup_allowed & ~VerifyState.verified, backup_toggle()),
        rx.cond(VerifyState.verified, _action(t("Done"), "code-done", VerifyState.reset_flow)),
        class_name="stack section",
        id=rx.cond(VerifyState.backup_allowed, "current-factor", "account-code"),
    )


def account_view() -> rx.Component:
    """The whole account page body; the sandbox hint with it."""
    return themed(
        rx.el.div(
            rx.el.p(t("Signed in as"), " ", rx.el.strong(AccountState.username, id="account-username")),
            _action(t("Log out"), "logout", AccountState.logout),
            class_name="row spread",
        ),
        rx.cond(
            VerifyState.code_sent & (VerifyState.flow != "verify"),
            account_code_step(),
            rx.fragment(message_line(AccountState.message), error_line(AccountState.error)),
        ),
        phone_section(),
        two_factor_section(),
        backup_codes_section(),
        devices_section(),
        sessions_section(),
        security_events_section(),
        sandbox_banner(),
        class_name="stack potp-flow",
    )
