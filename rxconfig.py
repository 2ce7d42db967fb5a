"""Reflex configuration. App settings (Plivo, limits, ...) live in `plivo_otp_app/config.py`.

Every field here can be overridden by `REFLEX_<FIELD>` in the environment
(`REFLEX_DB_URL`, `REFLEX_CORS_ALLOWED_ORIGINS`, `REFLEX_TRUSTED_PROXY_HOPS`, ...).
"""

import logging
import os
from pathlib import Path

import reflex as rx

ROOT = Path(__file__).resolve().parent

# The dev server (`reflex run`) restarts the backend when a file it watches changes. Reflex
# watches every top-level entry of the project as it finds it at start, so a SQLite database
# left with its -wal/-shm files by an interrupted run made every write restart the backend.
# Only the source is watched; nothing the app writes at run time is in it.
os.environ.setdefault(
    "REFLEX_HOT_RELOAD_OVERRIDE_PATHS",
    ":".join(str(ROOT / name) for name in ("plivo_otp_app", "assets", "rxconfig.py")),
)

# The tables are built by the package's own migrations (`python -m plivo_otp_app.migrations
# upgrade`), so the project has no alembic.ini, and Reflex's engine (behind its /_health)
# would warn that the database "is not initialized" and to run `reflex db init`: untrue, and
# that command would start a second history that creates the same tables again.
logging.getLogger("reflex.model").addFilter(
    lambda record: not str(record.msg).startswith("Database is not initialized")
)

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
