"""The operator dashboard in the browser: a visitor and a user get nothing, an admin (made by the
documented command) sees the charts of a seeded audit trail, filters its events, unlocks an
account and lifts a flagged group (both audited), and the page passes axe on a desktop and a phone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from axe import DESKTOP, MOBILE, assert_no_axe_violations
from conftest import ROOT
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, insert, select, update
from test_account_flows import LOGIN, _fresh_user, _sign_up

from plivo_otp_app.audit import Audit, AuditKind
from plivo_otp_app.config import AuditSettings
from plivo_otp_app.models import AuditEvent, SendTally, User

_events = AuditEvent.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]
_tally = SendTally.__table__  # type: ignore[attr-defined]
#: The dashboard's charts, each a `<section>` with an SVG once it has data.
CHARTS = (
    "chart-over-time",
    "chart-spend",
    "chart-country",
    "chart-group",
    "chart-refusals",
    "chart-delivery",
    "chart-verify-time",
)
BLOCK = "+447400"
#: The seeded run's day: long enough ago that the suite's own sign-ups (today) are not in it.
DAY = (datetime.now(UTC) - timedelta(days=40)).replace(hour=10, minute=0, second=0, microsecond=0)


def make_admin(db_url: str, username: str) -> None:
    """`python -m plivo_otp_app admin create USERNAME`, run as an operator runs it."""
    env = {**os.environ, "REFLEX_DB_URL": db_url}
    command = [sys.executable, "-m", "plivo_otp_app", "admin", "create", username]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def seed(db_url: str) -> None:
    """On `DAY`: US codes sent and verified, a GB block pumped and refused, delivery reports."""
    engine = create_engine(db_url)
    start = DAY
    clock = [start]
    audit = Audit(AuditSettings(), db_url, lambda: clock[0])
    with engine.begin() as db:

        def at(seconds: float, kind: AuditKind, **values: object) -> None:
            clock[0] = start + timedelta(seconds=seconds)
            audit.record(db, kind, **values)  # type: ignore[arg-type]

        for n in range(8):
            session = f"us-{n}"
            at(n * 60, AuditKind.SEND_SENT, phone=f"+1415555267{n}", provider_session_id=session, cost=7900)
            at(n * 60 + 5, AuditKind.DELIVERY_STATUS, provider_session_id=session, outcome="delivered")
            if n < 6:
                at(
                    n * 60 + 20 + 10 * n,
                    AuditKind.CODE_VERIFIED,
                    phone=f"+1415555267{n}",
                    provider_session_id=session,
                )
        for n in range(12):
            number = f"{BLOCK}1234{n:02d}"
            at(900 + n, AuditKind.SEND_SENT, phone=number, provider_session_id=f"gb-{n}", cost=40000)
            at(905 + n, AuditKind.DELIVERY_STATUS, provider_session_id=f"gb-{n}", outcome="undelivered")
        for n in range(5):
            at(1000 + n, AuditKind.SEND_BLOCKED, phone=f"{BLOCK}5678{n:02d}", outcome="watch-block")
        at(1100, AuditKind.SEND_LIMITED, phone="+14155550100", outcome="send-per-ip")
        bucket = start.replace(minute=0, second=0, microsecond=0)
        db.execute(insert(_tally).values(scope="flagged", key=f"block:{BLOCK}", bucket=bucket, sends=5))


def lock(db_url: str, username: str) -> int:
    with create_engine(db_url).begin() as db:
        db.execute(
            update(_users)
            .where(_users.c.username == username)
            .values(failed_otp_count=4, locked_until=datetime.now(UTC) + timedelta(hours=1))
        )
        return db.execute(select(_users.c.id).where(_users.c.username == username)).scalar_one()


def admin_actions(db_url: str) -> list[tuple[str, str]]:
    with create_engine(db_url).begin() as db:
        rows = db.execute(
            select(_events.c.outcome, _events.c.detail)
            .where(_events.c.kind == "admin_action")
            .order_by(_events.c.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def open_dashboard(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/admin")
    expect(page.locator("#admin-dashboard")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('#range-apply')?.disabled")


def show_seeded_day(page: Page) -> None:
    day = DAY.date().isoformat()
    page.fill("#range-from", day)
    page.fill("#range-to", day)
    page.click("#range-apply")
    expect(page.locator("#preset-7")).to_have_attribute("aria-pressed", "false")


@pytest.fixture(scope="module")
def seeded(app_db_url: str, app_url: str) -> str:
    seed(app_db_url)
    return app_db_url


def test_a_visitor_is_sent_to_log_in_and_a_user_is_refused(app: Page, app_url: str):
    app.goto(f"{app_url}/admin")
    app.wait_for_url(LOGIN)
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    expect(app.locator("#nav-admin")).to_have_count(0)
    app.goto(f"{app_url}/admin")
    expect(app.locator("#admin-refused")).to_contain_text("This page is for operators.")
    expect(app.locator("#admin-dashboard")).to_have_count(0)
    assert "send_sent" not in app.content() and "admin-totals" not in app.content()


def test_an_admin_sees_the_charts_filters_unlocks_and_lifts(app: Page, app_url: str, seeded: str):
    locked_name, locked_typed, locked_e164 = _fresh_user()
    _sign_up(app, app_url, locked_name, locked_typed, locked_e164)
    locked_id = lock(seeded, locked_name)
    app.context.clear_cookies()
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    make_admin(seeded, username)
    open_dashboard(app, app_url)
    expect(app.locator("#nav-admin")).to_have_attribute("aria-current", "page")
    show_seeded_day(app)

    expect(app.locator("#total-sent")).to_have_text("20")
    expect(app.locator("#total-verified")).to_have_text("6")
    expect(app.locator("#total-conversion")).to_have_text("30 %")
    expect(app.locator("#total-refused")).to_have_text("6")
    expect(app.locator("#total-median")).to_have_text("45 s")  # 20..70 s: the middle two, 40 and 50
    for chart in CHARTS:
        expect(app.locator(f"#{chart} .recharts-surface").first).to_be_visible()
    expect(app.locator("#chart-country .recharts-bar-rectangle")).to_have_count(1)  # US; GB (0 %) has none
    expect(app.locator("#chart-country svg")).to_contain_text("GB")
    expect(app.locator("#chart-country svg")).to_contain_text("US")
    expect(app.locator("#chart-delivery .recharts-pie-sector")).to_have_count(2)

    events = app.locator("#audit-events tbody tr")
    expect(events.first).to_be_visible()
    app.select_option("#filter-kind", "send_blocked")
    app.click("#filter-apply")
    expect(events).to_have_count(5)
    expect(events.first).to_contain_text("+44******")
    app.select_option("#filter-kind", "")
    app.fill("#filter-phone", "2673")
    app.click("#filter-apply")
    expect(events).to_have_count(2)  # the send and the code verified (a delivery report has no number)
    app.fill("#filter-phone", "")
    app.fill("#filter-country", "gb")
    app.fill("#filter-outcome", "watch-block")
    app.click("#filter-apply")
    expect(events).to_have_count(5)

    app.click(f"#unlock-{locked_id}")
    expect(app.locator("#message")).to_have_text("The account is unlocked.")
    expect(app.locator(f"#unlock-{locked_id}")).to_have_count(0)
    app.click(f"[id='lift-block:{BLOCK}']")
    expect(app.locator("#message")).to_contain_text("exempt from the conversion watch")
    expect(app.locator("#flagged-groups")).to_contain_text("lifted until")
    assert admin_actions(seeded)[-2:] == [("unlock", f"user:{locked_id}"), ("lift", f"block:{BLOCK} for 24h")]
    app.click("#preset-7")  # today, when the actions were taken
    app.select_option("#filter-kind", "admin_action")
    app.fill("#filter-country", "")
    app.fill("#filter-outcome", "")
    app.click("#filter-apply")
    expect(events.filter(has_text="block:+447400 for 24h")).to_have_count(1)

    app.click("#preset-90")
    expect(app.locator("#preset-90")).to_have_attribute("aria-pressed", "true")
    expect(app.locator("#chart-country .recharts-surface")).to_be_visible()
    for size, name in ((DESKTOP, "desktop"), (MOBILE, "phone")):
        app.set_viewport_size(size)
        assert_no_axe_violations(app, state=f"dashboard, {name}")


def test_an_admin_whose_role_is_taken_away_gets_nothing_more(app: Page, app_url: str, seeded: str):
    username, typed, e164 = _fresh_user()
    _sign_up(app, app_url, username, typed, e164)
    make_admin(seeded, username)
    open_dashboard(app, app_url)
    show_seeded_day(app)
    expect(app.locator("#total-sent")).to_have_text("20")
    with create_engine(seeded).begin() as db:
        db.execute(update(_users).where(_users.c.username == username).values(role="user"))
    app.click("#preset-30")
    expect(app.locator("#admin-refused")).to_contain_text("This page is for operators.")
    expect(app.locator("#admin-dashboard")).to_have_count(0)
