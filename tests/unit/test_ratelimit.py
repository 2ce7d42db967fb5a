"""`RateLimits` on memory storage (SND-01..SND-04, BF verify limit), the address buckets,
and fail-closed behaviour when the limit store is unreachable (OPS-03)."""

from __future__ import annotations

import socket
import time

import pytest

from plivo_otp_app.config import load_settings
from plivo_otp_app.errors import RateLimited, ServiceUnavailable
from plivo_otp_app.phone import Phone, normalise
from plivo_otp_app.ratelimit import SWEEP_SECONDS, RateLimits, SweepingMemoryStorage, ip_bucket

GENEROUS = "1000/hour"
VARIANTS = (
    "+1 415 555 2671",
    "(415) 555-2671",
    "415.555.2671",
    "001-415-555-2671",
    "＋１４１５５５５２６７１",
)
# Eleven valid US numbers in eleven different area codes (so eleven prefixes).
AREA_CODES = ("201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213")


def limits(**env: str) -> RateLimits:
    """Memory-storage limits; every rule generous unless overridden."""
    defaults = {
        "RATE_LIMIT_SEND_PER_NUMBER": GENEROUS,
        "RATE_LIMIT_SEND_PER_IP": GENEROUS,
        "RATE_LIMIT_SEND_PER_PREFIX": GENEROUS,
        "RATE_LIMIT_VERIFY_PER_IP": GENEROUS,
    }
    return RateLimits(load_settings({**defaults, **env}))


def us(number: str) -> Phone:
    return normalise(number, "US", "voice")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_per_number_limit_holds_across_formatting_variants():
    rl = limits(RATE_LIMIT_SEND_PER_NUMBER="3/minute")
    phones = [us(v) for v in VARIANTS]
    for phone, ip in zip(phones[:3], ("198.51.100.1", "198.51.100.2", "198.51.100.3"), strict=True):
        rl.check_send(phone, ip)
    for phone in phones[3:]:
        with pytest.raises(RateLimited) as limited:
            rl.check_send(phone, "198.51.100.9")
        assert limited.value.scope == "send-number"
    rl.check_send(us("+1 415 555 2672"), "198.51.100.9")


def test_per_number_limit_with_several_windows():
    rl = limits(RATE_LIMIT_SEND_PER_NUMBER="2/minute;3/hour")
    phone = us("(415) 555-2671")
    rl.check_send(phone, "198.51.100.1")
    rl.check_send(phone, "198.51.100.1")
    with pytest.raises(RateLimited, match="send-number"):
        rl.check_send(phone, "198.51.100.1")


def test_sends_to_an_accounts_own_phone_count_per_account_and_in_no_public_limit():
    rl = limits(
        RATE_LIMIT_SEND_PER_NUMBER="1/hour",
        RATE_LIMIT_SEND_PER_IP="1/hour",
        RATE_LIMIT_SEND_PER_PREFIX="1/hour",
        RATE_LIMIT_SEND_PER_ACCOUNT="2/hour",
    )
    phone = us("(415) 555-2671")
    rl.check_send(phone, "198.51.100.1")  # a stranger uses up the number's, block's and address's limit
    rl.check_send(phone, "198.51.100.1", account=7)
    rl.check_send(phone, "198.51.100.1", account=7)
    with pytest.raises(RateLimited) as own:
        rl.check_send(phone, "198.51.100.1", account=7)
    assert own.value.scope == "send-account" and "Too many codes sent" in own.value.user_message()
    rl.check_send(phone, "198.51.100.1", account=8)  # per account
    with pytest.raises(RateLimited, match="send-ip"):  # anonymous sends still count, unchanged
        rl.check_send(us("+1 212 555 0100"), "198.51.100.1")
    with pytest.raises(RateLimited, match="send-number"):
        rl.check_send(phone, "198.51.100.2")


def test_per_ip_limit_counts_sends_to_different_numbers():
    rl = limits(RATE_LIMIT_SEND_PER_IP="10/hour")
    phones = [us(f"+1 {area} 555 0100") for area in AREA_CODES]
    assert len({p.e164 for p in phones}) == len({p.prefix for p in phones}) == 11
    for phone in phones[:10]:
        rl.check_send(phone, "203.0.113.7")
    with pytest.raises(RateLimited) as limited:
        rl.check_send(phones[10], "203.0.113.7")
    assert limited.value.scope == "send-ip"
    rl.check_send(phones[10], "203.0.113.8")


def test_ipv6_addresses_in_one_64_share_a_bucket():
    rl = limits(RATE_LIMIT_SEND_PER_IP="2/hour")
    rl.check_send(us("+1 201 555 0100"), "2001:db8:1:2::1")
    rl.check_send(us("+1 202 555 0100"), "2001:db8:1:2:ffff:ffff:ffff:ffff")
    with pytest.raises(RateLimited, match="send-ip"):
        rl.check_send(us("+1 203 555 0100"), "2001:0db8:0001:0002:abcd::9")
    rl.check_send(us("+1 203 555 0100"), "2001:db8:1:3::1")
    assert ip_bucket("2001:db8:1:2::1") == ip_bucket("2001:db8:1:2:dead:beef::1") == "2001:db8:1:2::/64"
    assert ip_bucket("2001:db8:1:2::1") != ip_bucket("2001:db8:1:3::1")


def test_ipv4_mapped_ipv6_is_the_ipv4_address():
    assert ip_bucket("::ffff:192.0.2.10") == ip_bucket("192.0.2.10") == "192.0.2.10"
    rl = limits(RATE_LIMIT_SEND_PER_IP="1/hour")
    rl.check_send(us("+1 201 555 0100"), "192.0.2.10")
    with pytest.raises(RateLimited, match="send-ip"):
        rl.check_send(us("+1 202 555 0100"), "::ffff:192.0.2.10")


def test_per_prefix_limit_counts_numbers_differing_in_last_four_digits():
    rl = limits(RATE_LIMIT_SEND_PER_PREFIX="3/hour")
    phones = [us(f"+1 415 555 {n:04d}") for n in (2671, 2672, 2673, 9999)]
    assert len({p.prefix for p in phones}) == 1
    for i, phone in enumerate(phones[:3]):
        rl.check_send(phone, f"198.51.100.{i + 1}")
    with pytest.raises(RateLimited) as limited:
        rl.check_send(phones[3], "198.51.100.50")
    assert limited.value.scope == "send-prefix"
    rl.check_send(us("+1 415 556 2671"), "198.51.100.50")


def test_verify_limit_per_ip():
    rl = limits(RATE_LIMIT_VERIFY_PER_IP="5/minute")
    for _ in range(5):
        rl.check_verify("203.0.113.20")
    with pytest.raises(RateLimited) as limited:
        rl.check_verify("203.0.113.20")
    assert limited.value.scope == "verify-ip"
    rl.check_verify("203.0.113.21")


def test_verify_and_send_counts_are_separate():
    rl = limits(RATE_LIMIT_VERIFY_PER_IP="1/minute", RATE_LIMIT_SEND_PER_IP="1/minute")
    rl.check_verify("203.0.113.30")
    rl.check_send(us("+1 415 555 2671"), "203.0.113.30")


@pytest.mark.parametrize(("limit", "window"), [("1/minute", 60), ("1/10 seconds", 10), ("1/hour", 3600)])
def test_retry_after_is_a_positive_int_within_the_window(limit, window):
    rl = limits(RATE_LIMIT_SEND_PER_NUMBER=limit)
    phone = us("+1 415 555 2671")
    rl.check_send(phone, "198.51.100.1")
    with pytest.raises(RateLimited) as limited:
        rl.check_send(phone, "198.51.100.1")
    retry_after = limited.value.retry_after
    assert isinstance(retry_after, int)
    assert 0 < retry_after <= window
    assert retry_after >= window - 5


def test_reset_forgets_counts():
    rl = limits(RATE_LIMIT_SEND_PER_NUMBER="1/hour")
    phone = us("+1 415 555 2671")
    rl.check_send(phone, "198.51.100.1")
    with pytest.raises(RateLimited):
        rl.check_send(phone, "198.51.100.1")
    rl.reset()
    rl.check_send(phone, "198.51.100.1")


def test_unreachable_store_fails_closed():
    settings = load_settings({"RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:{closed_port()}"})
    rl = RateLimits(settings)
    with pytest.raises(ServiceUnavailable) as send_failed:
        rl.check_send(us("+1 415 555 2671"), "198.51.100.1")
    with pytest.raises(ServiceUnavailable) as verify_failed:
        rl.check_verify("198.51.100.1")
    for failed in (send_failed, verify_failed):
        assert type(failed.value) is ServiceUnavailable
        assert not isinstance(failed.value, RateLimited)
        assert failed.value.status == 503


@pytest.mark.parametrize(
    ("raw", "bucket"),
    [
        ("198.51.100.7:443", "198.51.100.7"),
        ("[2001:db8:1:2::5]:8080", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
        (" 198.51.100.7 ", "198.51.100.7"),
    ],
)
def test_ports_do_not_mint_new_buckets(raw, bucket):
    assert ip_bucket(raw) == bucket


def test_memory_store_frees_expired_entries_and_still_limits():
    """The once-a-second sweep still frees what expired, and the limit holds meanwhile."""
    rl = limits(RATE_LIMIT_SEND_PER_NUMBER="1/second", RATE_LIMIT_SEND_PER_PREFIX="1000/second")
    store = rl._limiter.storage
    assert isinstance(store, SweepingMemoryStorage)
    for area in AREA_CODES:
        rl.check_send(us(f"{area}-555-0100"), "10.0.0.1")
    with pytest.raises(RateLimited):
        rl.check_send(us("201-555-0100"), "10.0.0.2")
    # Our timer replaced the stock 10 ms one: this fails if a `limits` upgrade renames its internals.
    assert store.timer.interval == SWEEP_SECONDS
    assert sum(1 for key in store.events if "send-number" in key) == len(AREA_CODES)
    deadline = time.monotonic() + 5 * SWEEP_SECONDS
    while any("send-number" in key for key in store.events) and time.monotonic() < deadline:
        rl.check_verify("10.0.0.3")  # any hit keeps the sweep scheduled
        time.sleep(0.1)
    assert not any("send-number" in key for key in store.events)
    rl.check_send(us("201-555-0100"), "10.0.0.2")
