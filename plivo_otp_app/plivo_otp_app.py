"""The app: pages, API and start-up checks. Nothing else lives here."""

import reflex as rx

from . import log, socket_origins
from .api import build_api
from .components import connection_banner
from .config import get_settings
from .cookies import browser_cookie
from .pages import account, index, login, sandbox, signup
from .security_headers import security_headers
from .state import AccountState, AuthState, LoginState, SandboxState, SignupState, VerifyState

settings = get_settings()
log.configure(settings.infra.log_level)

# Outermost: the security headers on every response (pages, API, cookie routes, sandbox); inside
# them, the browser cookie every page gets, so that a login can be bound to the browser.
app = rx.App(
    api_transformer=[build_api(), browser_cookie, security_headers], stylesheets=["/styles.css"], toaster=None
)
socket_origins.install(app)
# The server (granian, uvicorn) sets up its own loggers after this import: capture them again at start.
app.register_lifespan_task(log.capture_foreign)
# Our own connection notice in place of Reflex's toast-based overlay (bench/RESULTS.md: JS size).
app.app_wraps[5, "Overlay"] = lambda stateful: connection_banner() if stateful else None
# Every page's on_load starts with AuthState.arrive: a full-page move already made is not repeated.
app.add_page(index, route="/", title="Verify your phone", on_load=[AuthState.arrive, VerifyState.reset_flow])
app.add_page(
    signup,
    route="/signup",
    title="Create an account",
    on_load=[AuthState.arrive, AuthState.know_browser, VerifyState.reset_flow, SignupState.load],
)
app.add_page(
    login,
    route="/login",
    title="Log in",
    on_load=[AuthState.arrive, AuthState.know_browser, VerifyState.reset_flow, LoginState.load],
)
app.add_page(
    account,
    route="/account",
    title="Your account",
    on_load=[AuthState.arrive, VerifyState.reset_flow, AccountState.load],
)
app.add_page(
    sandbox, route="/sandbox", title="Sandbox outbox", on_load=[AuthState.arrive, SandboxState.refresh]
)
