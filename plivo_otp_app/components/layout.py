"""Page shell and notices shared by every page."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ..routes import get_routes
from ..state import AuthState, VerifyState
from .fields import error_line, message_line


def sandbox_banner() -> rx.Component:
    """Says plainly that no real SMS leaves the machine in sandbox mode."""
    return rx.cond(
        VerifyState.sandbox,
        rx.el.div(
            "Sandbox: no real SMS is sent. Codes appear in the ",
            rx.el.a("sandbox outbox", href=get_routes().sandbox, id="sandbox-link"),
            ".",
            class_name="banner",
            id="sandbox-banner",
            role="status",
        ),
    )


def connection_banner() -> rx.Component:
    """Says so while the page has lost its connection to the server.

    Stands in for Reflex's default overlay (a toast and a pulsing icon), which puts a
    toast library and an icon set into every page's JavaScript.
    """
    return rx.cond(
        has_connection_errors,
        rx.el.div(
            "Connection to the server lost. Reconnecting…",
            class_name="connection-lost",
            id="connection-banner",
            role="alert",
        ),
    )


def leave_page() -> rx.Component:
    """Loads `AuthState.leaving_to` as a whole page (a cookie route), with no script to evaluate.

    Only once the page is hydrated: every page's `on_load` clears the var first, so a
    move that already happened is not repeated by the next page of the same tab.
    """
    return rx.cond(
        rx.State.is_hydrated & (AuthState.leaving_to != ""),
        rx.el.meta(http_equiv="refresh", content=f"0;url={AuthState.leaving_to}", id="leave-page"),
    )


def page_shell(title: str, *children: rx.Component) -> rx.Component:
    """A centred card with a heading, the sandbox banner, and why a flow started over (`#notice`)."""
    return rx.el.main(
        leave_page(),
        sandbox_banner(),
        rx.el.section(
            rx.el.h1(title), message_line(VerifyState.notice, "notice"), *children, class_name="card"
        ),
        class_name="page",
    )


def checking_session() -> rx.Component:
    """What a signed-in page shows until the session is checked in the database."""
    return rx.el.p("Checking your session…", class_name="muted")


def notices() -> rx.Component:
    """The info line (`#message`) and the error line (`#error`)."""
    return rx.fragment(message_line(VerifyState.message), error_line(VerifyState.error))
