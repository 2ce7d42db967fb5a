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
from urllib.parse import quote

import reflex as rx

from ..auth_api import DEVICE_COOKIE, SESSION_COOKIE, read_cookie
from ..browser_cookie import BROWSER_COOKIE
from ..errors import CookiesNeeded, NotSignedIn
from ..models import User
from ..proxies import PEER_HEADER, client_address
from ..services import get_session_service
from ..tokens import hash_token


class AuthState(rx.State):
    """Helpers, and the one var of a full-page move. Feature states inherit from it."""

    #: A URL on the backend the browser is to load as a whole page; empty once a page has loaded.
    leaving_to: str = ""

    @rx.event
    def arrive(self) -> None:
        """On every page load (before the page counts as hydrated): no move is pending here."""
        self.leaving_to = ""

    def _session_token(self) -> str | None:
        return read_cookie(self.router.headers.cookie, SESSION_COOKIE)

    def _device_token(self) -> str | None:
        return read_cookie(self.router.headers.cookie, DEVICE_COOKIE)

    def _browser_binding(self) -> str:
        """The hash of this connection's pre-login browser cookie; "" without one.

        The socket handshake's cookies are fixed for the connection, and the cookie is
        HttpOnly: a client token copied into another browser comes without it.
        """
        token = read_cookie(self.router.headers.cookie, BROWSER_COOKIE)
        return hash_token(token) if token else ""

    def _require_browser_binding(self) -> str:
        """`_browser_binding()`, or CookiesNeeded: a flow must be tied to something the tab token is not."""
        binding = self._browser_binding()
        if not binding:
            raise CookiesNeeded("no browser cookie on the connection")
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

    async def _sign_in(self, user_id: int, remember_device: bool = False, landing: str = "/account") -> None:
        """A full page load through the cookie route, which starts the session."""
        ticket = await asyncio.to_thread(
            get_session_service().issue_ticket, user_id, remember_device, self._page_url(landing)
        )
        fail = quote(self._page_url("/login"), safe="")
        self.leaving_to = self._backend_url(f"/api/session/complete?ticket={ticket}&fail={fail}")

    async def _sign_out(self, landing: str = "/login") -> None:
        """End the session here, then a full page load through the route that clears the cookie."""
        await asyncio.to_thread(get_session_service().end, self._session_token())
        target = quote(self._page_url(landing), safe="")
        self.leaving_to = self._backend_url(f"/api/session/logout?next={target}")
