"""The operator dashboard (`/admin`): charts and tables of the audit trail, and the operators' actions.

Every handler first checks, in the database, that this browser's session belongs to an
account with the admin role (`_admin`); the service checks the role again in every method.
Until a check passes, and after one fails, every data var is empty: a signed-out tab or a
user without the role (or one whose role was taken away, or whose session ended) holds
nothing, whatever handler it calls with whatever arguments.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import reflex as rx

from ..audit import Audit, AuditKind
from ..config import get_settings
from ..errors import NotAdmin
from ..messages import (
    FLAG_CLEARED,
    GROUP_EXTENDED,
    GROUP_LIFTED,
    UNLOCKED,
    duration,
    say,
)
from ..models import User
from ..routes import get_routes
from ..services.admin import (
    AdminService,
    EventFilter,
    Range,
    check_range,
    is_admin,
)
from ..translations import date_time, number
from .auth import AuthState
from .presenter import present

#: The date-range presets (`#range-presets`), in days back from today (UTC) included.
PRESETS = ("1", "7", "30", "90")
#: How long a lift or an extension from the page lasts.
FLAG_HOURS = 24
#: The audit kinds the type filter offers.
KINDS = tuple(str(kind) for kind in AuditKind)
_EMPTY: dict[str, Any] = {
    **dict.fromkeys(("total_sent", "total_verified", "total_conversion", "total_refused"), ""),
    **dict.fromkeys(("total_spend", "total_budget"), ""),
    "over_time": [],
    "by_country": [],
    "by_group": [],
    "refusals": [],
    "spend": [],
    "budget": 0.0,
    "delivery": [],
    "verify_times": [],
    "median": "",
    "events": [],
    "groups": [],
    "locked": [],
}


@functools.cache
def _service() -> AdminService:
    settings = get_settings()
    return AdminService(settings, Audit(settings.audit))


def _money(micros_or_units: float) -> str:
    return number(round(micros_or_units, 2))


class AdminState(AuthState):
    """What an operator sees on `/admin`; nothing for anyone else."""

    #: The session was checked and is an admin's: the page shows the dashboard.
    authorized: bool = False
    #: The session was checked and is not an admin's: the page says so, and shows nothing else.
    refused: bool = False
    range_from: str = ""
    range_to: str = ""
    preset: str = "7"
    hourly: bool = False
    total_sent: str = ""
    total_verified: str = ""
    total_conversion: str = ""
    total_refused: str = ""
    total_spend: str = ""
    total_budget: str = ""
    over_time: list[dict[str, Any]] = []
    by_country: list[dict[str, Any]] = []
    by_group: list[dict[str, Any]] = []
    refusals: list[dict[str, Any]] = []
    spend: list[dict[str, Any]] = []
    budget: float = 0.0
    delivery: list[dict[str, Any]] = []
    verify_times: list[dict[str, Any]] = []
    median: str = ""
    events: list[dict[str, str]] = []
    groups: list[dict[str, str]] = []
    locked: list[dict[str, str]] = []
    filter_kind: str = ""
    filter_country: str = ""
    filter_outcome: str = ""
    filter_phone: str = ""
    message: str = ""
    error: str = ""
    loading: bool = False

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """On page load: an admin gets the last 7 days; anyone else nothing (signed out: the login page)."""
        self.message = ""
        self._set_preset("7")
        async for update in self._refresh(redirect=True):
            yield update

    @rx.event
    async def pick_preset(self, days: str) -> AsyncIterator[Any]:
        """One of the range presets (the last 1, 7, 30 or 90 days)."""
        if days not in PRESETS:
            return
        self._set_preset(days)
        async for update in self._refresh():
            yield update

    @rx.event
    async def set_range(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """The range form: a start and an end date (both included)."""
        data = form_data if isinstance(form_data, dict) else {}
        since, until = data.get("from"), data.get("to")
        self.range_from = since[:10] if isinstance(since, str) else ""
        self.range_to = until[:10] if isinstance(until, str) else ""
        self.preset = ""
        async for update in self._refresh():
            yield update

    @rx.event
    async def filter_events(self, form_data: dict[str, Any]) -> AsyncIterator[Any]:
        """The `#audit-events` filters: type, country, outcome and (part of) the masked number."""
        data = form_data if isinstance(form_data, dict) else {}
        kind = data.get("kind")
        self.filter_kind = kind if isinstance(kind, str) and kind in KINDS else ""
        self.filter_country = _text(data.get("country"), 2).upper()
        self.filter_outcome = _text(data.get("outcome"), 32)
        self.filter_phone = _text(data.get("phone"), 24)
        async for update in self._refresh():
            yield update

    @rx.event
    async def unlock(self, user_id: str) -> AsyncIterator[Any]:
        """Unlock one account's SMS factor (`#locked-users`)."""
        if not (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
            return
        async for update in self._act(lambda actor: _service().unlock(actor, int(user_id)), say(UNLOCKED)):
            yield update

    @rx.event
    async def lift(self, group: str) -> AsyncIterator[Any]:
        """Exempt a flagged group from the conversion watch for `FLAG_HOURS` (`#flagged-groups`)."""
        async for update in self._flag(group, "lift", GROUP_LIFTED):
            yield update

    @rx.event
    async def extend(self, group: str) -> AsyncIterator[Any]:
        """Refuse every send to a flagged group for `FLAG_HOURS` (`#flagged-groups`)."""
        async for update in self._flag(group, "block", GROUP_EXTENDED):
            yield update

    @rx.event
    async def clear_flag(self, group: str) -> AsyncIterator[Any]:
        """End an operator's lift or extension of a group now."""
        scope, _, key = group.partition(":") if isinstance(group, str) else ("", "", "")
        async for update in self._act(
            lambda actor: _service().clear_flag(actor, scope, key), say(FLAG_CLEARED)
        ):
            yield update

    async def _flag(self, group: object, action: str, done: str) -> AsyncIterator[Any]:
        scope, _, key = group.partition(":") if isinstance(group, str) else ("", "", "")

        def flag(actor: User) -> str:
            until = _service().flag_group(actor, scope, key, action, FLAG_HOURS)
            return say(done).format(until=date_time(until))

        async for update in self._act(flag, None):
            yield update

    async def _act(self, action: Any, done: str | None) -> AsyncIterator[Any]:
        """One operator action, by a session checked to be an admin's, then the page again."""
        self.message, self.error = "", ""
        actor = await self._admin()
        if actor is None:
            return
        try:
            said = await asyncio.to_thread(action, actor)
        except Exception as exc:  # noqa: BLE001 - every failure is presented (`presenter`)
            self._failed(exc)
            return
        async for update in self._refresh():
            yield update
        self.message = said if done is None else done

    async def _admin(self) -> User | None:
        """The admin of this browser's live session, checked in the database; None (and nothing
        left in the page) for anyone else."""
        try:
            user = await self._current_user()
        except Exception as exc:  # noqa: BLE001 - presented, and nothing is shown
            self._forget()
            self._failed(exc)
            return None
        if not is_admin(user):
            self._forget()
            self.refused = user is not None
            if user is not None:
                self.error = NotAdmin("not an operator").user_message()
            return None
        self.refused = False
        return user

    async def _refresh(self, redirect: bool = False) -> AsyncIterator[Any]:
        self.error = ""
        self.loading = True
        yield
        actor = await self._admin()
        if actor is None:
            self.loading = False
            if redirect and not self.refused and not self.error:
                yield rx.redirect(get_routes().login)
            return
        try:
            span = check_range(*self._dates())
            shown = EventFilter(self.filter_kind, self.filter_country, self.filter_outcome, self.filter_phone)
            board, events, groups, locked = await asyncio.to_thread(self._read, actor, span, shown)
        except Exception as exc:  # noqa: BLE001 - every failure is presented (`presenter`)
            self._failed(exc)
            self.loading = False
            return
        self._show(span, board, events, groups, locked)
        self.authorized = True
        self.loading = False

    @staticmethod
    def _read(actor: User, span: Range, shown: EventFilter) -> tuple[Any, Any, Any, Any]:
        service = _service()
        return (
            service.dashboard(actor, span),
            service.events(actor, span, shown),
            service.flagged_groups(actor, span),
            service.locked_users(actor),
        )

    def _show(self, span: Range, board: Any, events: Any, groups: Any, locked: Any) -> None:
        totals = board.totals
        self.hourly = span.hourly
        self.total_sent, self.total_verified = number(int(totals["sent"])), number(int(totals["verified"]))
        self.total_conversion = f"{number(totals['conversion'])} %"
        self.total_refused = number(int(totals["refused"]))
        self.total_spend, self.total_budget = _money(totals["spend"]), _money(board.budget)
        self.over_time, self.by_country, self.by_group = board.over_time, board.by_country, board.by_group
        self.refusals, self.spend, self.budget = board.refusals, board.spend, board.budget
        self.delivery, self.verify_times = board.delivery, board.verify_times
        self.median = duration(round(board.median_seconds)) if board.median_seconds is not None else "\u2013"
        self.events = [
            {
                "id": str(e["id"]),
                "at": date_time(e["at"]),
                "kind": e["kind"],
                "user": str(e["user_id"] or ""),
                "phone": e["phone_masked"],
                "country": e["country"],
                "channel": e["channel"],
                "outcome": e["outcome"],
                "error": e["error_code"],
                "cost": _money(e["cost"] / 1_000_000) if e["cost"] else "",
                "detail": e["detail"],
            }
            for e in events
        ]
        self.groups = [
            {
                "id": f"{g.scope}:{g.key}",
                "scope": g.scope,
                "key": g.key,
                "refused": number(g.refused),
                "action": g.action,
                "until": date_time(g.until) if g.until else "",
            }
            for g in groups
        ]
        self.locked = [
            {
                "id": str(u.id),
                "username": u.username,
                "failures": number(u.failures),
                "until": date_time(u.until) if u.until else "",
            }
            for u in locked
        ]

    def _dates(self) -> tuple[datetime | None, datetime | None]:
        """The range form's dates as [start of the first day, start of the day after the last)."""
        try:
            first, last = date.fromisoformat(self.range_from), date.fromisoformat(self.range_to)
        except ValueError:
            return None, None
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        return since, datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)

    def _set_preset(self, days: str) -> None:
        today = datetime.now(UTC).date()
        self.preset = days
        self.range_to = today.isoformat()
        self.range_from = (today - timedelta(days=int(days) - 1)).isoformat()

    def _forget(self) -> None:
        """No data in the page: nobody checked may see any."""
        self.authorized = False
        for name, empty in _EMPTY.items():
            setattr(self, name, type(empty)() if not isinstance(empty, float) else 0.0)

    def _failed(self, exc: Exception) -> None:
        shown = present(exc)
        if shown.signed_out:
            self._forget()
        self.error = shown.error or shown.notice


def _text(value: object, longest: int) -> str:
    return value.strip()[:longest] if isinstance(value, str) else ""
