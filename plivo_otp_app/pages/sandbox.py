"""`/sandbox`: the embedded sandbox's outbox."""

from __future__ import annotations

import reflex as rx
from reflex.vars.object import ObjectVar

from ..components import page_shell
from ..routes import get_routes
from ..state import SandboxState


def _message_row(message: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(message["time"]),
        rx.el.td(message["recipient"]),
        rx.el.td(message["channel"]),
        rx.el.td(rx.el.code(message["code"]), class_name="code"),
        rx.el.td(message["text"]),
    )


def _outbox() -> rx.Component:
    return rx.el.table(
        rx.el.thead(
            rx.el.tr(*(rx.el.th(h) for h in ("Time (UTC)", "Recipient", "Channel", "Code", "Message")))
        ),
        rx.el.tbody(rx.foreach(SandboxState.messages, _message_row)),
        id="outbox",
    )


def sandbox() -> rx.Component:
    """Messages the sandbox 'delivered', newest first."""
    return page_shell(
        "Sandbox outbox",
        rx.cond(
            SandboxState.enabled,
            rx.el.div(
                rx.el.p(
                    "Messages the sandbox delivered, newest first. "
                    "Also as JSON: GET /sandbox/messages?recipient=+E164.",
                    class_name="muted",
                ),
                rx.el.button("Refresh", id="refresh-outbox", type="button", on_click=SandboxState.refresh),
                _outbox(),
                class_name="stack",
            ),
            rx.el.p("The sandbox is off: this deployment uses Plivo.", id="sandbox-off"),
        ),
        current=get_routes().sandbox,
    )
