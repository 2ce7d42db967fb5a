"""Reflex configuration. App settings (Plivo, limits, ...) live in `plivo_otp_app/config.py`.

Every field here can be overridden by `REFLEX_<FIELD>` in the environment
(`REFLEX_DB_URL`, `REFLEX_CORS_ALLOWED_ORIGINS`, `REFLEX_TRUSTED_PROXY_HOPS`, ...).
"""

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

config = rx.Config(
    app_name="plivo_otp_app",
    db_url="sqlite:///plivo_otp.db",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Only these pages may open the state socket; set your public origin in production.
    cors_allowed_origins=[
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
