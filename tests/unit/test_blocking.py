"""`run_blocking` runs at most `WORKER_THREADS` calls at once and returns each one's own result."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from plivo_otp_app import blocking
from plivo_otp_app.config import load_settings


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocking, "get_settings", lambda: load_settings({"WORKER_THREADS": "2"}))


def test_at_most_worker_threads_calls_run_at_once(two_threads: None) -> None:
    running = peak = 0
    lock = threading.Lock()

    def work(value: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return value * 2

    async def main() -> list[int]:
        return await asyncio.gather(*(blocking.run_blocking(work, i) for i in range(10)))

    assert asyncio.run(main()) == [i * 2 for i in range(10)]
    assert peak == 2


def test_errors_reach_the_caller() -> None:
    def fail() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(blocking.run_blocking(fail))
