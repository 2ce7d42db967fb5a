"""The demo app: a Reflex app with the library mounted at its default routes. Nothing else lives here."""

import reflex as rx

from .components import connection_banner
from .mount import mount

app = rx.App(toaster=None)
# Our own connection notice in place of Reflex's toast-based overlay (bench/RESULTS.md: JS size).
app.app_wraps[5, "Overlay"] = lambda stateful: connection_banner() if stateful else None
mount(app)
