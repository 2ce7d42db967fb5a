"""The rate-limit policy: who may send how many codes, and guess how often.

Moving windows from `limits`, stored where `RATE_LIMIT_STORAGE_URL` says
(`memory://` for one process, `redis://` across workers). Every check is one
atomic `hit()`, never `test()` then `hit()`. If the store is unreachable the
check fails closed: no code is sent and no guess is checked.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from . import log
from .config import Settings
from .errors import RateLimited, ServiceUnavailable
from .phone import Phone, mask

#: How often the in-memory store frees expired entries.
SWEEP_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    """`limits`' memory store, freeing expired entries once a second and dropping empty keys.

    The stock store (limits 5.8) walks every key from a timer thread 100 times a
    second and never drops a key whose entries all expired, so every number, prefix
    and address ever seen is walked forever. Distinct numbers cost an attacker
    nothing: at 10,000 keys the walk took half a core, at 50,000 three cores, all
    of it holding the GIL the requests need (bench/inprocess.py prints it). No check
    depends on the walk (each compares its own timestamps); it only frees memory.
    """

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()  # the stock 10 ms timer; ours starts with the first hit
        self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces the stock private timer
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()

    def _MemoryStorage__expire_events(self) -> None:  # noqa: N802 - replaces the stock private sweep
        now = time.time()
        for key in list(self.events):
            with self.locks[key]:
                events = self.events.get(key)
                if events:  # newest first: drop the expired tail in place
                    del events[bisect.bisect_left(events, -now, key=lambda entry: -entry.expiry) :]
                if not events:
                    self.events.pop(key, None)
                    self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations.get(key, now) <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


def _storage(url: str) -> Storage:
    if url.split("://", 1)[0] == "memory":
        return SweepingMemoryStorage()
    storage = storage_from_string(url)
    if not isinstance(storage, Storage):  # an `async+` scheme: the settings accept none
        raise TypeError("the moving-window limiter needs a synchronous limits storage")
    return storage


@dataclass(frozen=True)
class _Rule:
    scope: str
    items: list[RateLimitItem]


class RateLimits:
    """The send and verify limits of one deployment."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(_storage(settings.limits.storage_url))
        self._sends_fail_open = settings.limits.sends_fail_open
        self._send_ip = _Rule("send-ip", parse_many(settings.limits.send_per_ip))
        self._send_number = _Rule("send-number", parse_many(settings.limits.send_per_number))
        self._send_prefix = _Rule("send-prefix", parse_many(settings.limits.send_per_prefix))
        self._send_account = _Rule("send-account", parse_many(settings.limits.send_per_account))
        self._verify_ip = _Rule("verify-ip", parse_many(settings.limits.verify_per_ip))
        self._login_ip = _Rule("login-ip", parse_many(settings.limits.login_per_ip))
        self._login_account = _Rule("login-account", parse_many(settings.limits.login_per_account))

    def check_send(self, phone: Phone, client_ip: str, account: int | None = None) -> None:
        """Count one code sent to `phone` from `client_ip`; for `account`'s own verified phone
        when an account is given.

        A code anyone can ask for (the public page, a sign-up, a new number) counts per
        address, number and number block, against SMS pumping. A code to an account's
        own verified phone, asked for after its password or in its session, counts per
        account only: strangers' sends to the number or its block must not use it up.

        Raises:
            RateLimited: A send limit is used up (address, number, prefix or account).
            ServiceUnavailable: The limit store cannot be reached (unless
                `RATE_LIMIT_SENDS_FAIL_OPEN=1` chose availability over cost control).
        """
        try:
            if account is not None:
                self._hit(self._send_account, str(account), phone)
                return
            self._hit(self._send_ip, ip_bucket(client_ip), phone)
            self._hit(self._send_number, phone.e164, phone)
            self._hit(self._send_prefix, phone.prefix, phone)
        except ServiceUnavailable:
            if not self._sends_fail_open:
                raise
            log.event("ratelimit_fail_open", logging.WARNING, phone=mask(phone.e164))

    def check_verify(self, client_ip: str) -> None:
        """Count one code check from `client_ip`.

        Raises:
            RateLimited: This address checked too many codes.
            ServiceUnavailable: The limit store cannot be reached.
        """
        self._hit(self._verify_ip, ip_bucket(client_ip), None)

    def check_login(self, client_ip: str, account: str) -> None:
        """Count one password attempt from `client_ip` for the name `account` (a username in
        its canonical form, so its look-alikes share its budget, or an email address).

        Unknown names are counted like known ones, and an account's username and email
        are two names, so the limit reveals nothing: not whether a name exists, nor which
        email belongs to which username. Alternating the two gives at most twice the
        per-name budget on one account.

        Raises:
            RateLimited: Too many password attempts from this address or for this name.
            ServiceUnavailable: The limit store cannot be reached.
        """
        self._hit(self._login_ip, ip_bucket(client_ip), None)
        self._hit(self._login_account, account.casefold()[:254], None)

    def check_signup(self, client_ip: str) -> None:
        """Count one sign-up from `client_ip`, in the address's password-attempt budget.

        Not in the name's: sign-ups naming someone's username must not use up that
        account's password attempts.

        Raises:
            RateLimited: Too many sign-ups and password attempts from this address.
            ServiceUnavailable: The limit store cannot be reached.
        """
        self._hit(self._login_ip, ip_bucket(client_ip), None)

    def reset(self) -> None:
        """Forget every counter (tests and operators only)."""
        self._limiter.storage.reset()

    def _hit(self, rule: _Rule, key: str, phone: Phone | None) -> None:
        for item in rule.items:
            try:
                allowed = self._limiter.hit(item, rule.scope, key)
                reset_at = None if allowed else self._limiter.get_window_stats(item, rule.scope, key)[0]
            except Exception as exc:
                log.event("ratelimit_store_error", logging.ERROR, scope=rule.scope, error=type(exc).__name__)
                raise ServiceUnavailable("rate-limit store unreachable") from exc
            if reset_at is not None:
                retry_after = max(1.0, reset_at - time.time())
                log.event(
                    "limited",
                    scope=rule.scope,
                    limit=str(item),
                    phone=mask(phone.e164) if phone else None,
                    key=key if rule.scope.endswith("-ip") else None,
                    retry_after=round(retry_after),
                )
                raise RateLimited(retry_after, rule.scope)


def ip_bucket(client_ip: str) -> str:
    """The key for an address: the address for IPv4, its /64 for IPv6.

    A port some proxies append (`1.2.3.4:80`, `[2001:db8::1]:80`) is dropped, so
    changing source ports cannot mint fresh buckets.
    """
    text = client_ip.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
