"""`/sandbox`: the embedded sandbox's outbox."""

from __future__ import annotations

import reflex as rx
from reflex.vars.object import ObjectVar

from ..components import page_shell
from ..i18n import t
from ..routes import get_routes
from ..state import SandboxState
from ..state.sandbox import REFRESH_SECONDS


#: The outbox's columns: each heading and the message field under it.
def _columns() -> tuple[tuple[rx.Var[str], str], ...]:
    return (
        (t("Sent"), "time"),
        (t("Recipient"), "recipient"),
        (t("Channel"), "channel"),
        (t("Language"), "locale"),
        (t("Code"), "code"),
        (t("Message"), "text"),
    )


def _cell(heading: rx.Var[str], key: str, value: rx.Var) -> rx.Component:
    """A value that carries its heading (`data-label`), shown beside it where the rows are cards."""
    if key == "code":
        return rx.el.td(rx.el.code(value), class_name="code", custom_attrs={"data-label": heading})
    return rx.el.td(value, class_name=key, custom_attrs={"data-label": heading})


def _time_cell(heading: rx.Var[str], message: ObjectVar[dict[str, str]]) -> rx.Component:
    """ "2 min ago", the exact UTC time in the `<time>` (and its tooltip)."""
    when = message["time"]
    return rx.el.td(
        rx.el.time(message["ago"], date_time=when, title=when),
        custom_attrs={"data-label": heading},
    )


def _message_row(message: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        *(
            _time_cell(heading, message) if key == "time" else _cell(heading, key, message[key])
            for heading, key in _columns()
        )
    )


def _auto_refresh() -> rx.Component:
    """Reloads the outbox every few seconds while the page is open (a hidden `rx.moment` ticking)."""
    return rx.moment(
        interval=REFRESH_SECONDS * 1000,
        on_change=SandboxState.refresh,
        class_name="potp-tick",
        aria_hidden="true",
    )


def _outbox() -> rx.Component:
    return rx.el.table(
        rx.el.thead(rx.el.tr(*(rx.el.th(heading, scope="col") for heading, _ in _columns()))),
        rx.el.tbody(rx.foreach(SandboxState.messages, _message_row)),
        id="outbox",
    )


def sandbox() -> rx.Component:
    """Messages the sandbox 'delivered', newest first."""
    return page_shell(
        t("Sandbox outbox"),
        rx.cond(
            SandboxState.enabled,
            rx.el.div(
                rx.el.p(
                    t(
                        "Messages the sandbox delivered, newest first. Also as JSON: {request}.",
                        request="GET /sandbox/messages?recipient=+E164",
                    ),
                    class_name="muted",
                ),
                rx.el.button(t("Refresh"), id="refresh-outbox", type="button", on_click=SandboxState.refresh),
                _outbox(),
                _auto_refresh(),
                class_name="stack",
            ),
            rx.el.p(t("The sandbox is off: this deployment uses Plivo."), id="sandbox-off"),
        ),
        current=get_routes().sandbox,
    )
