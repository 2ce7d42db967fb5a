"""`require_login`: a host app's pages and event handlers only for a live session.

The session is checked in the database on every use (`AuthState._current_user`),
never read from a client-visible var: a var only decides what a page shows, and
the wrapped page shows nothing of its own until the check has passed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, overload
from urllib.parse import quote

import reflex as rx

from .components.layout import checking_session
from .models import User
from .routes import get_routes
from .state.auth import AuthState

S = TypeVar("S", bound=rx.State)


class LoginGateState(AuthState):
    """Whether the protected page on screen may be shown; decided by `check` when it mounts."""

    allowed: bool = False

    @rx.event
    async def check(self) -> AsyncIterator[Any]:
        """Show the page to a live session; send anyone else to log in, with a way back."""
        self.allowed = await self._current_user() is not None
        if not self.allowed:
            yield _to_login(self)

    @rx.event
    def leave(self) -> None:
        """The protected page went away: the next one is checked afresh."""
        self.allowed = False


async def current_user(state: rx.State) -> User | None:
    """The user of the browser's live session behind `state`'s event, checked in the database."""
    auth = await state.get_state(AuthState)
    return await auth._current_user()


def _to_login(state: rx.State) -> rx.event.EventSpec:
    here = state.router.url.path or "/"
    query = state.router.url.query
    back = f"{here}?{query}" if query else here
    return rx.redirect(f"{get_routes().login}?next={quote(back, safe='/')}")


def _page_gate(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    @functools.wraps(page)
    def protected() -> rx.Component:
        return rx.fragment(
            rx.cond(
                LoginGateState.allowed,
                page(),
                checking_session(),
            ),
            # A fragment renders no element: the check rides on an empty span that mounts with the page.
            rx.el.span(on_mount=LoginGateState.check, on_unmount=LoginGateState.leave, hidden=True),
        )

    return protected


def _handler_gate(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    async def gated(self: rx.State, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        if await current_user(self) is None:
            yield _to_login(self)
            return
        result = handler(self, *args, **kwargs)
        if inspect.isasyncgen(result):
            async for update in result:
                yield update
        elif inspect.isgenerator(result):
            for update in result:
                yield update
        else:
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                yield result

    return gated


@overload
def require_login(target: Callable[[], rx.Component]) -> Callable[[], rx.Component]: ...
@overload
def require_login(target: Callable[..., Any]) -> Callable[..., Any]: ...
def require_login(target: Callable[..., Any]) -> Callable[..., Any]:
    """Gate a page function, or an event handler of a host app's state, behind a live session.

    A page (a function of no arguments): a visitor without a live session sees only
    "Checking your session…" and is sent to the login page with `?next=` back to it;
    the page itself renders only once the session is checked. An event handler (its
    first argument is the state; put `require_login` under `@rx.event`): runs only for
    a live session, else the browser is sent to log in.
    """
    if inspect.signature(target).parameters:
        return _handler_gate(target)
    return _page_gate(target)
