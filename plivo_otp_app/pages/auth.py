"""The sign-up, login and account pages (at the mounted `Routes`)."""

from __future__ import annotations

import reflex as rx

from ..components import page_shell
from ..components.account import account_view
from ..components.auth import login_flow, signup_flow
from ..components.fields import error_line
from ..components.layout import checking_session
from ..components.recovery import reset_password_flow
from ..i18n import t
from ..routes import get_routes
from ..state import AccountState, VerifyState
from ..state.account import SIGNED_OUT_PARAMETER


def _footer(text: rx.Var[str], link: rx.Var[str], href: str) -> rx.Component:
    return rx.el.p(text, " ", rx.el.a(link, href=href), class_name="muted")


def signup() -> rx.Component:
    """Create an account and verify its phone."""
    return page_shell(
        t("Create an account"),
        signup_flow(),
        _footer(t("Have an account?"), t("Log in"), get_routes().login),
        current=get_routes().signup,
    )


def _signed_out() -> rx.Component:
    """ "You are signed out." where a sign-out landed (`?signed_out=1`)."""
    asked = rx.State.router.url.query_parameters.get(SIGNED_OUT_PARAMETER, "") == "1"
    asked = asked & ~(VerifyState.code_sent & (VerifyState.flow == "login"))  # until the next login's code
    return rx.cond(
        asked,
        rx.el.p(t("You are signed out."), id="signed-out", class_name="notice success-notice", role="status"),
    )


def login() -> rx.Component:
    """Password, then the SMS code where two-factor login is on."""
    return page_shell(
        t("Log in"),
        _signed_out(),
        login_flow(),
        _footer(t("New here?"), t("Create an account"), get_routes().signup),
        current=get_routes().login,
    )


def reset_password() -> rx.Component:
    """A forgotten password: the name, a code to the account's phone, the new password."""
    return page_shell(
        t("Reset your password"),
        reset_password_flow(),
        current=get_routes().reset_password,
    )


def account() -> rx.Component:
    """The signed-in user's account; nothing renders before the session is checked."""
    return page_shell(
        t("Your account"),
        rx.cond(
            AccountState.signed_in,
            account_view(),
            rx.cond(
                AccountState.error != "",
                error_line(AccountState.error),
                checking_session(),
            ),
        ),
        current=get_routes().account,
    )
