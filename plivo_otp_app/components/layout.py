"""Page shell and notices shared by every page."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ..i18n import t, t_around
from ..routes import get_routes
from ..state import AccountState, AuthState, NavState, VerifyState
from .fields import error_line, live_region, message_line
from .language import language_switch
from .theme import theme_switch, themed


def sandbox_banner() -> rx.Component:
    """Says plainly that no real SMS leaves the machine in sandbox mode.

    Part of every flow component (not of the page shell), so a host page that mounts a flow
    shows it too.
    """
    before, after = t_around("Sandbox: no real SMS is sent. Codes appear in the {link}.")
    return rx.el.div(
        rx.cond(
            VerifyState.sandbox,
            rx.el.div(
                before,
                rx.el.a(t("sandbox outbox"), href=get_routes().sandbox, id="sandbox-link"),
                after,
                class_name="banner",
                id="sandbox-banner",
                role="status",
            ),
        ),
        class_name="potp-sandbox-hint",
        on_mount=AuthState.know_sandbox,
    )


def connection_banner() -> rx.Component:
    """Says so while the page has lost its connection to the server.

    Stands in for Reflex's default overlay (a toast and a pulsing icon), which puts a
    toast library and an icon set into every page's JavaScript.
    """
    return rx.cond(
        has_connection_errors,
        rx.el.div(
            t("Connection to the server lost. Reconnecting…"),
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


#: The product's name in the site header (a component label, not a sentence).
PRODUCT_NAME = "Plivo OTP"


def _nav_link(label: rx.Var[str], href: str, current: str, element_id: str) -> rx.Component:
    marked = {"aria-current": "page"} if href == current else {}
    return rx.el.a(label, href=href, id=element_id, class_name="site-nav-link", custom_attrs=marked)


def site_header(current: str = "") -> rx.Component:
    """The product name (a link home), `#site-nav` (the pages that fit the visitor), the theme switch.

    `NavState.signed_in` (the session, checked in the database when the header mounts, so on
    a host's page too) only chooses the links: the pages behind them check the session again
    themselves. Log out is the account page's own handler, a full-page move through the
    cookie route; the account page has its own button, so the header leaves its one out there.

    Args:
        current: The route of the page showing the header; its link gets `aria-current="page"`.
    """
    routes = get_routes()
    return rx.el.header(
        rx.el.a(PRODUCT_NAME, href=routes.verify, id="site-name", class_name="site-name"),
        rx.el.nav(
            rx.cond(
                NavState.signed_in,
                rx.fragment(
                    _nav_link(t("Account"), routes.account, current, "nav-account"),
                    rx.cond(NavState.admin, _nav_link(t("Admin"), routes.admin, current, "nav-admin")),
                    *([] if current == routes.account else [_nav_logout()]),
                ),
                rx.fragment(
                    _nav_link(t("Verify"), routes.verify, current, "nav-verify"),
                    _nav_link(t("Log in"), routes.login, current, "nav-login"),
                    _nav_link(t("Create account"), routes.signup, current, "nav-signup"),
                ),
            ),
            id="site-nav",
            aria_label=t("Site"),
            class_name="site-nav",
        ),
        theme_switch(),
        language_switch(),
        class_name="site-header",
        on_mount=NavState.load,
    )


def _nav_logout() -> rx.Component:
    return rx.el.button(
        t("Log out"),
        id="nav-logout",
        type="button",
        class_name="site-nav-button",
        on_click=AccountState.logout,
    )


def page_shell(title: rx.Var[str] | str, *children: rx.Component, current: str = "") -> rx.Component:
    """The site header, then a centred card with a heading and why a flow started over
    (`#notice`). `current` is the page's route (marked in the header's links)."""
    return themed(
        site_header(current),
        rx.el.main(
            leave_page(),
            rx.el.section(
                rx.el.h1(title), message_line(VerifyState.notice, "notice"), *children, class_name="card"
            ),
            class_name="page",
        ),
        class_name="potp-shell",
    )


def checking_session() -> rx.Component:
    """What a signed-in page shows until the session is checked in the database."""
    return rx.el.p(t("Checking your session…"), class_name="muted")


def notices() -> rx.Component:
    """The info line (`#message`), the error line (`#error`), and `#countdown-status`, which
    says once when a countdown ends (the error line is silent while it counts a wait down)."""
    return rx.fragment(
        message_line(VerifyState.message),
        error_line(VerifyState.error, silent=VerifyState.error_counted),
        live_region(VerifyState.announcement, "countdown-status"),
    )
