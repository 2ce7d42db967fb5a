"""What the operator dashboard's queries cost at 100,000 audit events.

A fresh database is filled with `ROWS` events over 30 days (sends, verifications, delivery
reports, refusals and logins over 40 countries and 2,000 ranges, as the audit trail would hold
them), then, alternating in each round: the baseline (one indexed count of the range's events,
the least a dashboard over that range can ask) and what one page load asks (`dashboard`,
`events`, `flagged_groups`, `locked_users`), for a 7-day and a 30-day range. The figures are
the median of the rounds in ms and the ratio to the baseline of the same run. SQLite always;
PostgreSQL too when `BENCH_PG_URL` names a scratch database (its public schema is dropped
and rebuilt).

Prints one JSON object. `python bench/admin.py`
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plivo_otp_app import migrations
from plivo_otp_app.audit import Audit
from plivo_otp_app.config import AuditSettings, Settings
from plivo_otp_app.db import engine_for, transaction
from plivo_otp_app.models import AuditEvent, User
from plivo_otp_app.services.admin import AdminService, EventFilter, Range

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COUNTRIES = [
    ("US", "+1415"),
    ("GB", "+4474"),
    ("DE", "+4915"),
    ("FR", "+336"),
    ("IN", "+9198"),
    ("BR", "+55119"),
    ("MX", "+5255"),
    ("ES", "+346"),
    ("IT", "+393"),
    ("NG", "+23480"),
]
_events = AuditEvent.__table__  # type: ignore[attr-defined]


def _seed(url: str) -> None:
    """`ROWS` events: per flow a send, most with a delivery report, half verified; some refusals."""
    rng = random.Random(12)
    rows: list[dict[str, object]] = []
    flow = 0
    while len(rows) < ROWS:
        flow += 1
        country, prefix = COUNTRIES[flow % len(COUNTRIES)]
        number = f"{prefix}{rng.randrange(10**6, 10**7)}"[:13]
        at = NOW - timedelta(seconds=rng.randrange(30 * 86400))
        base = {
            "phone_masked": number[:3] + "******" + number[-4:],
            "phone_hash": f"{flow:064x}",
            "country": country,
            "range_key": number[:-4],
            "channel": "sms",
            "address": "",
            "outcome": "",
            "error_code": "",
            "cost": 0,
            "detail": "",
            "user_id": None,
        }
        session = f"s-{flow}"
        if rng.random() < 0.1:
            reason = rng.choice(("watch-block", "watch-range", "budget-hour", "country-high-risk"))
            rows.append(
                {**base, "at": at, "kind": "send_blocked", "outcome": reason, "provider_session_id": ""}
            )
            continue
        rows.append({**base, "at": at, "kind": "send_sent", "cost": 7900, "provider_session_id": session})
        status = rng.choice(("delivered", "delivered", "delivered", "undelivered", "failed"))
        rows.append(
            {
                **base,
                "at": at + timedelta(seconds=4),
                "kind": "delivery_status",
                "outcome": status,
                "provider_session_id": session,
            }
        )
        if rng.random() < 0.5:
            wait = timedelta(seconds=rng.randrange(8, 400))
            rows.append({**base, "at": at + wait, "kind": "code_verified", "provider_session_id": session})
            rows.append({**base, "at": at + wait, "kind": "login", "provider_session_id": ""})
    with transaction(url) as db:
        for start in range(0, ROWS, 5000):
            db.execute(insert(_events), rows[start : min(start + 5000, ROWS)])


def _baseline(url: str, span: Range) -> None:
    with transaction(url) as db:
        db.execute(select(func.count()).where(_events.c.at >= span.since, _events.c.at < span.until)).scalar()


def _page(service: AdminService, admin: User, span: Range) -> None:
    service.dashboard(admin, span)
    service.events(admin, span, EventFilter())
    service.flagged_groups(admin, span)
    service.locked_users(admin)


def _measure(url: str) -> dict[str, object]:
    _seed(url)
    with transaction(url) as db:
        count = db.execute(select(func.count()).select_from(_events)).scalar()
    admin = User(
        id=1,
        username="root",
        display_username="root",
        password_hash="",
        role="admin",
        created_at=NOW,
        updated_at=NOW,
    )
    service = AdminService(Settings(), Audit(AuditSettings(hash_key="k" * 32), url), url, lambda: NOW)
    found: dict[str, object] = {"events": count}
    for days in (7, 30):
        span = Range(NOW - timedelta(days=days), NOW)
        _page(service, admin, span)  # warm: the engine, the caches
        base, page = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            _baseline(url, span)
            base.append(time.perf_counter() - started)
            started = time.perf_counter()
            _page(service, admin, span)
            page.append(time.perf_counter() - started)
        b, p = statistics.median(base) * 1000, statistics.median(page) * 1000
        found[f"{days}d"] = {"baseline_ms": round(b, 1), "page_ms": round(p, 1), "ratio": round(p / b, 1)}
    return found


def main() -> None:
    results: dict[str, object] = {"rows": ROWS, "rounds": ROUNDS}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrations.upgrade(url)
        results["sqlite"] = _measure(url)
    pg = os.environ.get("BENCH_PG_URL")
    if pg:
        with engine_for(pg).begin() as db:
            db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrations.upgrade(pg)
        results["postgresql"] = _measure(pg)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
