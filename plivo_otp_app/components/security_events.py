"""The account's own recent security events (`#security-events`): what happened, when, from where."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..audit import AuditKind
from ..i18n import t
from ..state import AccountState


def security_events_section() -> rx.Component:
    """The latest events of the signed-in account, newest first (read for it on the server)."""
    return rx.el.section(
        rx.el.h2(t("Recent security events"), class_name="section-title"),
        rx.el.p(
            t("Not you? Change your password and sign out everywhere."),
            class_name="muted",
        ),
        rx.cond(
            rx.Var.create(AccountState.security_events).length() > 0,
            rx.el.ul(rx.foreach(AccountState.security_events, _event_item), id="security-events"),
            rx.el.p(t("None."), class_name="muted", id="security-events"),
        ),
        class_name="stack section",
    )


def _event_item(event: Any) -> rx.Component:
    """ "Signed in", when and from where, and the number it was about (masked)."""
    return rx.el.li(
        rx.el.div(
            rx.el.span(_label(event["kind"]), class_name="event-name"),
            rx.el.span(
                event["when"],
                rx.cond(event["where"] != "", rx.fragment(" · ", rx.el.span(event["where"], dir="ltr"))),
                rx.cond(
                    event["phone"] != "",
                    rx.fragment(" · ", rx.el.span(event["phone"], dir="ltr", class_name="masked")),
                ),
                class_name="event-meta",
            ),
            class_name="stack event",
        ),
        data_kind=event["kind"],
    )


def _label(kind: Any) -> rx.Component | rx.Var:
    """The event's name in the reader's language (each written out in `t()` for the catalogue)."""
    labels = {
        AuditKind.SEND_SENT: t("Code sent"),
        AuditKind.CODE_VERIFIED: t("Code accepted"),
        AuditKind.CODE_FAILED: t("Code refused"),
        AuditKind.LOCKOUT: t("Codes locked after too many wrong tries"),
        AuditKind.LOGIN: t("Signed in"),
        AuditKind.LOGOUT: t("Signed out"),
        AuditKind.TWO_FACTOR_ON: t("Two-factor login turned on"),
        AuditKind.TWO_FACTOR_OFF: t("Two-factor login turned off"),
        AuditKind.PHONE_CHANGED: t("Phone number changed"),
        AuditKind.PASSWORD_RESET: t("Password reset"),
        AuditKind.BACKUP_CODES_REGENERATED: t("New backup codes made"),
        AuditKind.DEVICE_REMEMBERED: t("Device remembered"),
        AuditKind.DEVICE_REVOKED: t("Device forgotten"),
    }
    return rx.match(kind, *((str(name), label) for name, label in labels.items()), t("Security event"))
