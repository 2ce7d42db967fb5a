"""Reflex configuration. App settings (Plivo, limits, ...) live in `plivo_otp_app/config.py`.

Every field here can be overridden by `REFLEX_<FIELD>` in the environment
(`REFLEX_DB_URL`, `REFLEX_CORS_ALLOWED_ORIGINS`, `REFLEX_TRUSTED_PROXY_HOPS`, ...).
"""

import os

import reflex as rx

#: `reflex run` in development serves the page from the frontend port (3000) and the socket from 8000.
DEV_FRONTEND_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]

config = rx.Config(
    app_name="plivo_otp_app",
    db_url="sqlite:///plivo_otp.db",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # The page's own origin may always open the state socket (plivo_otp_app/socket_origins.py);
    # list other origins here or in REFLEX_CORS_ALLOWED_ORIGINS (a frontend served elsewhere).
    cors_allowed_origins=[] if os.environ.get("REFLEX_ENV_MODE") == "prod" else DEV_FRONTEND_ORIGINS,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
