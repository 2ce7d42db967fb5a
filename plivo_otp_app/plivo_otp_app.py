"""The demo app: a Reflex app with the library mounted at its default routes. Nothing else lives here."""

import reflex as rx

from .mount import mount

app = rx.App()
mount(app)
