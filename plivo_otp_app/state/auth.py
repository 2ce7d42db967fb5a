"""What every signed-in page needs: who the session cookie belongs to, and full-page moves.

The session cookie is HttpOnly, so only the socket handshake's headers carry
it to the backend (the browser never gets it back in state). Every privileged
handler calls `_current_user()`, which checks the session in the database.

A full-page move to a cookie route sets `leaving_to`, which the page renders as
a refresh `<meta>` (`components.leave_page`): `rx.call_script` would need
`eval`, which the page's Content-Security-Policy refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import quote

import reflex as rx
from sqlalchemy import Connection

from ..config import get_settings
from ..cookies import DEVICE_COOKIE, SESSION_COOKIE, browser_from_handshake, read_cookie
from ..errors import BrowserUnknown, NotSignedIn
from ..models import User
from ..proxies import PEER_HEADER, client_address
from ..routes import get_routes
from ..services import get_session_service
from ..tokens import hash_token


class AuthState(rx.State):
    """Helpers, and the one var of a full-page move. Feature states inherit from it."""

    #: A URL on the backend the browser is to load as a whole page; empty once a page has loaded.
    leaving_to: str = ""
    #: Whether codes go to the embedded sandbox (the banner on every page), once a page loads.
    sandbox: bool = False
    #: Whether this tab was already sent for its browser cookie (`know_browser`).
    _browser_asked: bool = False
    #: The page a `require_login` page sent this tab to log in from (a path); "" for the account page.
    _return_to: str = ""

    @rx.event
    def arrive(self) -> None:
        """On every page load (before the page counts as hydrated): no move is pending here,
        and the page knows whether codes go to the sandbox."""
        self.leaving_to = ""
        self.sandbox = get_settings().provider.is_sandbox

    @rx.event
    def know_sandbox(self) -> None:
        """When a flow component mounts (on a host's page too, which has no `arrive`): whether
        codes go to the sandbox, for its hint."""
        self.sandbox = get_settings().provider.is_sandbox

    @rx.event
    def know_browser(self) -> None:
        """On a sign-in page: a socket that came without the browser cookie (the page was served
        elsewhere) moves the page once through the backend route that sets it, and back."""
        if browser_from_handshake(self.router.headers.cookie) is not None or self._browser_asked:
            return
        self._browser_asked = True  # once per tab: a browser that refuses cookies is not sent round again
        here = quote(self._page_url(self.router.url.path or "/"), safe="")
        self.leaving_to = self._backend_url(f"/api/session/browser?next={here}")

    def _session_token(self) -> str | None:
        return read_cookie(self.router.headers.cookie, SESSION_COOKIE)

    def _device_token(self) -> str | None:
        return read_cookie(self.router.headers.cookie, DEVICE_COOKIE)

    def _browser_binding(self) -> str:
        """The hash of this connection's pre-login browser cookie; "" without one.

        The socket handshake's cookies are fixed for the connection, and the cookie is
        HttpOnly: a client token copied into another browser comes without it.
        """
        token = browser_from_handshake(self.router.headers.cookie)
        return hash_token(token) if token else ""

    def _require_browser_binding(self) -> str:
        """`_browser_binding()`, or BrowserUnknown: a flow must be tied to something the tab token is not."""
        binding = self._browser_binding()
        if not binding:
            raise BrowserUnknown("no browser cookie on the connection")
        return binding

    def _session_binding(self) -> str:
        """The hash of this connection's session cookie (which session, not just whose); "" without one."""
        token = self._session_token()
        return hash_token(token) if token else ""

    async def _current_user(self) -> User | None:
        """The user of this browser's live session, checked in the database."""
        token = self._session_token()
        if not token:
            return None
        return await asyncio.to_thread(get_session_service().authenticate, token)

    async def _require_user(self) -> User:
        user = await self._current_user()
        if user is None or user.id is None:
            raise NotSignedIn("no live session")
        return user

    def _ip(self) -> str:
        """From the socket's raw peer, not Reflex's `client_ip`, which believes any peer's X-Forwarded-For."""
        headers = self.router.headers.raw_headers
        return client_address(headers.get(PEER_HEADER), headers.get("x-forwarded-for"))

    def _user_agent(self) -> str:
        return self.router.headers.user_agent or ""

    def _page_url(self, path: str) -> str:
        """An absolute URL on the page's own origin."""
        return f"{self.router.url.origin}{path}"

    def _backend_url(self, path: str) -> str:
        """An absolute URL on the backend, as this browser reaches it (the socket's host)."""
        scheme = "https" if self.router.url.origin.startswith("https") else "http"
        return f"{scheme}://{self.router.headers.host}{path}"

    def _landing(self) -> str:
        """Where a sign-in lands: the page the login was asked for from, else the account page."""
        return self._return_to or get_routes().account

    async def _sign_in(self, user_id: int, remember_device: bool = False, landing: str | None = None) -> None:
        """A full page load through the cookie route, which starts the session.

        The ticket is bound to this browser's browser cookie (from the handshake), so only this
        browser can redeem it: a ticket link sent to anyone else signs nobody in (login CSRF).

        Raises:
            BrowserUnknown: The handshake carried no browser cookie (`cookies.BrowserCookie` missing).
        """
        browser = browser_from_handshake(self.router.headers.cookie)
        if browser is None:
            raise BrowserUnknown("no browser cookie in the socket handshake")
        ticket = await asyncio.to_thread(
            get_session_service().issue_ticket,
            user_id,
            remember_device,
            self._page_url(landing or self._landing()),
            browser,
        )
        self._leave_with(ticket)

    def _ticket_issuer(
        self, remember_device: bool = False, landing: str | None = None
    ) -> Callable[[Connection, int], str]:
        """Issues this browser's ticket inside a service's transaction (a sign-in that must
        commit with the factor it used up); then `_leave_with` the ticket. Bound to this
        browser's cookie, as in `_sign_in`.

        Raises:
            BrowserUnknown: The handshake carried no browser cookie.
        """
        browser = browser_from_handshake(self.router.headers.cookie)
        if browser is None:
            raise BrowserUnknown("no browser cookie in the socket handshake")
        url = self._page_url(landing or self._landing())
        sessions = get_session_service()
        return lambda db, user_id: sessions.issue_ticket(user_id, remember_device, url, browser, db=db)

    def _leave_with(self, ticket: str) -> None:
        """Redeem `ticket` at the cookie route, with a full page load."""
        fail = quote(self._page_url(get_routes().login), safe="")
        self.leaving_to = self._backend_url(f"/api/session/complete?ticket={ticket}&fail={fail}")

    async def _sign_out(self, landing: str | None = None) -> None:
        """End the session here, then a full page load through the route that clears the cookie."""
        await asyncio.to_thread(get_session_service().end, self._session_token())
        target = quote(self._page_url(landing or get_routes().login), safe="")
        self.leaving_to = self._backend_url(f"/api/session/logout?next={target}")
