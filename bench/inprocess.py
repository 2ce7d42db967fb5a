"""The cost the app adds per verification, measured in-process, and its memory over 10,000.

A verification here is `start` + `check` on the real service (phone rules, rate
limits in memory, SQLite writes) with a provider that answers at once, so the
figure is the app's own work without any network. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plivo_otp_app.config import load_settings
from plivo_otp_app.db import engine_for
from plivo_otp_app.phone import normalise
from plivo_otp_app.providers import Outcome
from plivo_otp_app.ratelimit import SWEEP_SECONDS, RateLimits, SweepingMemoryStorage
from plivo_otp_app.services import VerificationService

UNLIMITED = {
    "RATE_LIMIT_SEND_PER_NUMBER": "1000000/hour",
    "RATE_LIMIT_SEND_PER_IP": "1000000/hour",
    "RATE_LIMIT_SEND_PER_PREFIX": "1000000/hour",
    "RATE_LIMIT_VERIFY_PER_IP": "1000000/hour",
}


class InstantProvider:
    """Answers like the sandbox would, at once: isolates the app's own cost."""

    def send(self, recipient: str, channel: str) -> str:
        return str(uuid.uuid4())

    def validate(self, session_id: str, code: str) -> Outcome:
        return Outcome.VALID

    def status(self, session_id: str) -> str:
        return "verified"

    def notify(self, source: str, recipient: str, text: str) -> None:
        return None


def _number(i: int) -> str:
    return f"+1415555{1000 + i % 9000:04d}" if i < 9000 else f"+1650555{1000 + (i - 9000) % 9000:04d}"


def sweep_figures(keys: int = 50_000) -> dict[str, float]:
    """The memory rate-limit store's expiry sweep at `keys` live keys: the stock `limits`
    store (100 sweeps a second) against ours (1 a second), and the keys each still holds
    once every window has passed."""
    figures: dict[str, float] = {"keys": keys}
    for name, store, per_second in (
        ("stock", MemoryStorage(), 100),
        ("ours", SweepingMemoryStorage(), 1 / SWEEP_SECONDS),
    ):
        limiter = MovingWindowRateLimiter(store)
        live, brief = parse("5/hour"), parse("1/second")
        for i in range(keys):
            limiter.hit(live, "send-number", str(i))
            limiter.hit(brief, "send-prefix", str(i))
        time.sleep(1.1)  # the 1/second entries are all expired now
        started = time.perf_counter()
        store._MemoryStorage__expire_events()
        elapsed = time.perf_counter() - started
        figures[f"{name}_sweep_ms"] = round(elapsed * 1000, 2)
        figures[f"{name}_core_pct"] = round(elapsed * per_second * 100, 1)
        figures[f"{name}_keys_after_expiry"] = len(store.events)
    return figures


def main() -> None:
    """Time start + check, its parts, and RSS over 10,000 verifications."""
    database = Path(tempfile.mkdtemp()) / "bench.db"
    url = f"sqlite:///{database}"
    SQLModel.metadata.create_all(engine_for(url))
    settings = load_settings(UNLIMITED)
    service = VerificationService(settings, InstantProvider(), RateLimits(settings), db_url=url)
    process = psutil.Process(os.getpid())

    def one(i: int) -> float:
        started = time.perf_counter()
        result = service.start(_number(i), "US", "sms", f"10.{i % 250}.0.1")
        service.check(result.verification_id, "123456", f"10.{i % 250}.0.1")
        return time.perf_counter() - started

    for i in range(1000):  # warm up: imports, caches, SQLite pages
        one(i)
    rss_before = process.memory_info().rss
    totals = [one(1000 + i) for i in range(10_000)]
    rss_after = process.memory_info().rss

    parts = {}
    for name, fn in {
        "phone_rules": lambda i: normalise(_number(i), "US", "sms"),
        "rate_limits": lambda i: service.limits.check_send(normalise(_number(i), "US", "sms"), "10.9.9.9"),
    }.items():
        samples = []
        for i in range(2000):
            started = time.perf_counter()
            fn(i)
            samples.append(time.perf_counter() - started)
        parts[name] = round(statistics.median(samples) * 1e6, 1)
    median = statistics.median(totals) * 1e6
    print(
        json.dumps(
            {
                "verification_p50_us": round(median, 1),
                "verification_p99_us": round(sorted(totals)[int(len(totals) * 0.99)] * 1e6, 1),
                "phone_rules_p50_us": parts["phone_rules"],
                "phone_rules_plus_limits_p50_us": parts["rate_limits"],
                "rss_before_mb": round(rss_before / 2**20, 1),
                "rss_after_10k_mb": round(rss_after / 2**20, 1),
                "rss_growth_pct": round((rss_after - rss_before) / rss_before * 100, 1),
                "sweep": sweep_figures(),
            }
        )
    )


if __name__ == "__main__":
    main()
