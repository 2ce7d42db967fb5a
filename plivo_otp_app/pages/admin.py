"""The operator dashboard (`Routes.admin`, `/admin` by default): admins only."""

from __future__ import annotations

import reflex as rx

from ..components import page_shell
from ..components.admin import admin_view
from ..components.fields import error_line
from ..components.layout import checking_session
from ..i18n import t
from ..routes import get_routes
from ..state.admin import AdminState


def admin() -> rx.Component:
    """The dashboard once the session is checked to be an admin's; else why not, and nothing else."""
    return page_shell(
        t("Operator dashboard"),
        rx.cond(
            AdminState.authorized,
            admin_view(),
            rx.cond(
                AdminState.error != "",
                error_line(AdminState.error, element_id="admin-refused"),
                checking_session(),
            ),
        ),
        current=get_routes().admin,
    )
