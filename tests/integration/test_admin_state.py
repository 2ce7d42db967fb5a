"""`AdminState`: every handler the browser can call checks the session's role in the database.

A signed-out tab, a user's tab and a tab whose admin role was taken away call each handler with
valid arguments: none of them gets a figure, a row or a chart into the state, and none changes
anything (no unlock, no flag, no admin action). An admin's tab gets the dashboard."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from sqlalchemy import select, update
from test_admin import add_user, seed

from plivo_otp_app.audit import Audit
from plivo_otp_app.config import AuditSettings, Settings
from plivo_otp_app.db import transaction
from plivo_otp_app.models import AuditEvent, GroupFlag, User
from plivo_otp_app.services.admin import AdminService
from plivo_otp_app.state import admin as admin_module
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state.admin import _EMPTY, AdminState

_users = User.__table__  # type: ignore[attr-defined]
#: A valid call of every handler `AdminState` defines (the browser may call any of them).
CALLS: dict[str, tuple[Any, ...]] = {
    "load": (),
    "pick_preset": ("30",),
    "set_range": ({"from": "2026-11-19", "to": "2026-11-21"},),
    "filter_events": ({"kind": "send_sent", "country": "US", "outcome": "", "phone": ""},),
    "unlock": ("0",),
    "lift": ("block:+447400",),
    "extend": ("block:+447400",),
    "clear_flag": ("block:+447400",),
}


def _state(cookie: str | None) -> AdminState:
    root = State(_reflex_internal_init=True)
    state = root.get_substate(AdminState.get_full_name().split("."))
    headers = {"host": "127.0.0.1:3000", **({"cookie": cookie} if cookie else {})}
    router = {"token": "tab-1", "pathname": "/admin", "asPath": "/admin", "headers": headers}
    state.router = RouterData.from_router_data(router)
    return state


def _call(state: AdminState, name: str, *args: Any) -> None:
    handler = getattr(type(state), name).fn
    result = handler(state, *(args or CALLS[name]))

    async def drain() -> None:
        if inspect.isasyncgen(result):
            async for _ in result:
                pass
        elif inspect.iscoroutine(result):
            await result

    asyncio.run(drain())


def _held(state: AdminState) -> dict[str, Any]:
    """What the state holds of the dashboard's data (every var `_forget` empties)."""
    return {name: getattr(state, name) for name in _EMPTY if getattr(state, name)}


@pytest.fixture
def wired(accounts, db_url: str, monkeypatch) -> AdminService:
    service = AdminService(Settings(), Audit(AuditSettings(hash_key="k" * 32), db_url), db_url)
    monkeypatch.setattr(auth_module, "get_session_service", lambda: accounts.sessions)
    monkeypatch.setattr(admin_module, "_service", lambda: service)
    return service


def _session_cookie(accounts, user_id: int) -> str:
    ticket = accounts.sessions.issue_ticket(user_id, False, "http://127.0.0.1:3000/admin", "browser-A")
    redeemed = accounts.sessions.redeem_ticket(ticket, "192.0.2.1", "test", browser="browser-A")
    return f"otp_session={redeemed.session_token}; otp_browser=browser-A"


def test_every_handler_is_covered():
    defined = {name for name in AdminState.event_handlers if name in vars(AdminState)}
    # Reflex's own `setvar(name, value)` only calls a `set_<name>` handler: `set_range`, here.
    assert defined - {"setvar"} == set(CALLS)


def test_nobody_but_an_admin_gets_anything_from_any_handler(accounts, db_url: str, wired):
    import test_admin  # the seeded run's clock

    seed(db_url, test_admin.Clock(test_admin.T0))
    user = add_user(db_url, "mallory")
    locked = add_user(db_url, "locked", failed_otp_count=100)
    demoted = add_user(db_url, "demoted", role="admin")
    cookies = {
        "signed out": None,
        "a user": _session_cookie(accounts, user.id or 0),
        "a forged cookie": "otp_session=forged; otp_browser=browser-A",
        "demoted": _session_cookie(accounts, demoted.id or 0),
    }
    with transaction(db_url) as db:
        db.execute(update(_users).where(_users.c.id == demoted.id).values(role="user"))
    for who, cookie in cookies.items():
        for name in CALLS:
            state = _state(cookie)
            _call(state, name, *((str(locked.id),) if name == "unlock" else ()))
            assert not state.authorized and _held(state) == {}, (who, name, _held(state))
    with transaction(db_url) as db:
        kinds = db.execute(select(AuditEvent.__table__.c.kind)).scalars().all()  # type: ignore[attr-defined]
        flags = db.execute(select(GroupFlag.__table__)).all()  # type: ignore[attr-defined]
        still = db.execute(select(_users.c.failed_otp_count).where(_users.c.id == locked.id)).scalar_one()
    assert "admin_action" not in kinds and flags == [] and still == 100


def test_an_admin_gets_the_dashboard_and_acts(accounts, db_url: str, wired):
    import test_admin

    seed(db_url, test_admin.Clock(test_admin.T0))
    root = add_user(db_url, "root", role="admin")
    state = _state(_session_cookie(accounts, root.id or 0))
    _call(state, "set_range", {"from": "2026-11-20", "to": "2026-11-20"})
    assert state.authorized and state.total_sent == "11" and state.hourly
    assert {row["country"] for row in state.by_country} == {"US", "GB"}
    assert [g["id"] for g in state.groups] == ["block:+447400"]
    _call(state, "lift")
    assert state.message.startswith("The group is exempt from the conversion watch until ")
    assert state.groups[0]["action"] == "lift"
    state.range_from = "2026-11-21"
    state.range_to = "2026-11-20"
    _call(state, "filter_events")
    assert state.error == "Choose a start date before the end date, at most a year apart."
