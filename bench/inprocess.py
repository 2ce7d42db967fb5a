"""The cost the app adds per verification, measured in-process, and its memory over 10,000.

A verification here is `start` + `check` on the real service (phone rules, rate
limits in memory, SQLite writes) with a provider that answers at once, so the
figure is the app's own work without any network. Prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import psutil
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pumping import OFF as PUMPING_OFF  # the baseline: bench/pumping.py prices the defences

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

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        return str(uuid.uuid4())

    def validate(self, session_id: str, code: str) -> Outcome:
        return Outcome.VALID

    def status(self, session_id: str) -> str:
        return "verified"

    def notify(self, source: str, recipient: str, text: str) -> None:
        return None


_AREAS = ("415", "650", "212", "718", "305", "312", "206", "617")


def _number(i: int) -> str:
    """The i-th of 72,000 distinct valid US numbers."""
    return f"+1{_AREAS[i // 9000 % len(_AREAS)]}555{1000 + i % 9000:04d}"


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


def _service(windows: str) -> VerificationService:
    """The real service on a fresh SQLite file, every rate limit set to `windows`."""
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    SQLModel.metadata.create_all(engine_for(url))
    settings = load_settings({**dict.fromkeys(UNLIMITED, windows), **PUMPING_OFF})
    return VerificationService(settings, InstantProvider(), RateLimits(settings), db_url=url)


def _verifications(service: VerificationService, first: int, count: int) -> list[float]:
    """Seconds taken by each of `count` verifications (start + check) on new numbers."""

    def one(i: int) -> float:
        started = time.perf_counter()
        result = service.start(_number(i), "US", "sms", f"10.{i % 250}.0.1")
        service.check(result.verification_id, "123456", f"10.{i % 250}.0.1")
        return time.perf_counter() - started

    return [one(first + i) for i in range(count)]


def growth(windows: str, trace: bool = False) -> tuple[dict[str, float], list[float]]:
    """RSS before and after 10,000 verifications, and their timings. A first 10,000 warm up
    imports, caches, SQLite's page cache and the allocator: RSS then stays flat when
    nothing leaks (measured: +8 MiB over the first 10,000, +1 MiB over each of the next three).

    With `trace`, also the growth of Python's own heap (tracemalloc) once the windows have
    passed and the store's sweep has run: objects the app keeps that it should not.
    """
    service = _service(windows)
    process = psutil.Process(os.getpid())
    _verifications(service, 0, 10_000)
    if trace:
        gc.collect()
        tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0]
    before = process.memory_info().rss
    totals = _verifications(service, 10_000, 10_000)
    after = process.memory_info().rss
    figures = {
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_10k_mb": round(after / 2**20, 1),
        "rss_growth_pct": round((after - before) / before * 100, 1),
    }
    if trace:
        time.sleep(2.5)  # every window has passed
        _verifications(service, 30_000, 1)  # a hit schedules the store's sweep
        time.sleep(SWEEP_SECONDS + 0.5)
        gc.collect()
        figures["heap_growth_kb"] = round((tracemalloc.get_traced_memory()[0] - heap_before) / 1024, 1)
    return figures, totals


def main() -> None:
    """Time start + check and its parts; RSS over 10,000 verifications with hour-long rate-limit
    windows (the store keeps every hit for the hour, by design) and, in a fresh process, with
    2-second windows (what stays then is what the app leaks)."""
    if sys.argv[1:2] == ["--growth"]:
        print(json.dumps(growth(sys.argv[2], trace=True)[0]))
        return
    hour, totals = growth(UNLIMITED["RATE_LIMIT_SEND_PER_IP"])
    service = _service(UNLIMITED["RATE_LIMIT_SEND_PER_IP"])
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
    brief = subprocess.run(
        [sys.executable, __file__, "--growth", "1000000 per 2 seconds"],
        check=True,
        capture_output=True,
        text=True,
    )
    print(
        json.dumps(
            {
                "verification_p50_us": round(statistics.median(totals) * 1e6, 1),
                "verification_p99_us": round(sorted(totals)[int(len(totals) * 0.99)] * 1e6, 1),
                "phone_rules_p50_us": parts["phone_rules"],
                "phone_rules_plus_limits_p50_us": parts["rate_limits"],
                **hour,
                "short_windows": json.loads(brief.stdout),
                "sweep": sweep_figures(),
            }
        )
    )


if __name__ == "__main__":
    main()
