"""The app: pages, API and start-up checks. Nothing else lives here."""

import reflex as rx

from . import log
from .api import build_api
from .config import get_settings
from .pages import index, sandbox
from .state import SandboxState, VerifyState

settings = get_settings()
log.configure(settings.log_level)

app = rx.App(api_transformer=build_api(), stylesheets=["/styles.css"])
app.add_page(index, route="/", title="Verify your phone", on_load=VerifyState.reset_flow)
app.add_page(sandbox, route="/sandbox", title="Sandbox outbox", on_load=SandboxState.refresh)
