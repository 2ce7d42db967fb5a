"""Per-number limits against a real redis-server (RFX-04): workers sharing one Redis share
one count, and concurrent hits cannot overshoot the limit."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from harness import free_port

from plivo_otp_app.config import load_settings
from plivo_otp_app.errors import RateLimited
from plivo_otp_app.phone import normalise
from plivo_otp_app.ratelimit import RateLimits

REDIS_SERVER = Path("/usr/bin/redis-server")
GENEROUS = "1000/hour"
_databases = itertools.count(1)


@pytest.fixture(scope="module")
def redis_base_url() -> Iterator[str]:
    """A private redis-server on a free loopback port, without persistence."""
    if not REDIS_SERVER.exists() or shutil.which(str(REDIS_SERVER)) is None:
        pytest.skip(f"{REDIS_SERVER} is not installed")
    port = free_port()
    process = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start (exit code {process.poll()})")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_base_url: str) -> str:
    """A fresh, empty Redis database for one test."""
    url = f"{redis_base_url}/{next(_databases) % 16}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def limits(url: str, per_number: str) -> RateLimits:
    return RateLimits(
        load_settings(
            {
                "RATE_LIMIT_STORAGE_URL": url,
                "RATE_LIMIT_SEND_PER_NUMBER": per_number,
                "RATE_LIMIT_SEND_PER_IP": GENEROUS,
                "RATE_LIMIT_SEND_PER_PREFIX": GENEROUS,
                "RATE_LIMIT_VERIFY_PER_IP": GENEROUS,
            }
        )
    )


def test_two_workers_on_one_redis_share_the_per_number_count(redis_url):
    worker_a, worker_b = limits(redis_url, "3/minute"), limits(redis_url, "3/minute")
    typed = ("(415) 555-2671", "+1 415 555 2671", "415.555.2671", "001 415 555 2671")
    phones = [normalise(t, "US") for t in typed]
    worker_a.check_send(phones[0], "198.51.100.1")
    worker_b.check_send(phones[1], "198.51.100.2")
    worker_a.check_send(phones[2], "198.51.100.3")
    with pytest.raises(RateLimited) as limited:
        worker_b.check_send(phones[3], "198.51.100.4")
    assert limited.value.scope == "send-number"
    assert 0 < limited.value.retry_after <= 60
    worker_b.check_send(normalise("(415) 555-2672", "US"), "198.51.100.4")


def test_two_memory_workers_do_not_share_counts():
    """The control: per-process memory storage is why production needs Redis."""
    worker_a, worker_b = limits("memory://", "1/minute"), limits("memory://", "1/minute")
    phone = normalise("(415) 555-2671", "US")
    worker_a.check_send(phone, "198.51.100.1")
    worker_b.check_send(phone, "198.51.100.1")


def test_concurrent_hits_let_exactly_the_limit_through(redis_url):
    phone = normalise("+1 415 555 2671", "US")
    workers = [limits(redis_url, "3/minute") for _ in range(2)]
    start = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        start.wait()
        try:
            workers[i % 2].check_send(phone, f"198.51.100.{i + 1}")
            outcome = "sent"
        except RateLimited:
            outcome = "limited"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["limited"] * 7 + ["sent"] * 3


def test_reset_clears_the_shared_count(redis_url):
    worker_a, worker_b = limits(redis_url, "1/minute"), limits(redis_url, "1/minute")
    phone = normalise("+1 415 555 2671", "US")
    worker_a.check_send(phone, "198.51.100.1")
    with pytest.raises(RateLimited):
        worker_b.check_send(phone, "198.51.100.1")
    worker_a.reset()
    worker_b.check_send(phone, "198.51.100.1")
