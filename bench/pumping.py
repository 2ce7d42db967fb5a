"""What the pumping defences cost per send, and what they let through of two pumping bursts.

Cost: `start` (the send path) and `start` + `check` on the real service with a provider that
answers at once, the defences off (the baseline) and at their defaults, in alternating batches
of one run on fresh databases of the same kind, so the ratio compares like with like. The
defaults' budgets are raised out of the way (every send is admitted and verified; what is timed
is the counting and the decision). SQLite always; PostgreSQL too when `BENCH_PG_URL` names a
scratch database (its public schema is dropped and rebuilt).

Bursts, at the defaults: the issue's 300 sends over 30 ranges of one block from 300 addresses,
and 300 over 50 countries (10 % by voice); the sends each let through and the refusals by reason.

Prints one JSON object. `python bench/pumping.py`
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

import phonenumbers
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plivo_otp_app import migrations
from plivo_otp_app.config import load_settings
from plivo_otp_app.db import engine_for
from plivo_otp_app.errors import InvalidPhone, SendRefused
from plivo_otp_app.providers import Outcome
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService

UNLIMITED = {
    "RATE_LIMIT_SEND_PER_NUMBER": "1000000/hour",
    "RATE_LIMIT_SEND_PER_IP": "1000000/hour",
    "RATE_LIMIT_SEND_PER_PREFIX": "1000000/hour",
    "RATE_LIMIT_VERIFY_PER_IP": "1000000/hour",
}
OFF = {
    "PUMPING_RANGE_UNVERIFIED": "0",
    "PUMPING_BLOCK_UNVERIFIED": "0",
    "PUMPING_COUNTRY_UNVERIFIED": "0",
    "PUMPING_HOURLY_BUDGET": "0",
    "PUMPING_DAILY_BUDGET": "0",
    "PUMPING_COUNTRY_HOURLY_BUDGET": "0",
    "PUMPING_COUNTRY_DAILY_BUDGET": "0",
}
#: The defaults, with caps no run reaches (the conversion watch as it is: every send verifies).
ON = {
    "PUMPING_HOURLY_BUDGET": "1000000",
    "PUMPING_DAILY_BUDGET": "1000000",
    "PUMPING_COUNTRY_HOURLY_BUDGET": "1000000",
    "PUMPING_COUNTRY_DAILY_BUDGET": "1000000",
}
#: The issue's destinations, then others, 50 in all.
COUNTRIES = [
    "SO",
    "MM",
    "GN",
    "SL",
    "MG",
    "TJ",
    "KG",
    "CU",
    "YE",
    "AF",
    "LV",
    "AZ",
    "UZ",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "PT",
    "PL",
    "RO",
    "UA",
    "TR",
    "EG",
    "NG",
    "KE",
    "ZA",
    "GH",
    "IN",
    "PK",
    "BD",
    "LK",
    "ID",
    "PH",
    "VN",
    "TH",
    "MY",
    "BR",
    "AR",
    "CO",
    "PE",
    "MX",
    "CL",
    "AU",
    "NZ",
    "JP",
    "KR",
    "CA",
]
BATCHES = 8
PER_BATCH = 150


class InstantProvider:
    """Answers at once: isolates the app's own cost."""

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


def _sqlite() -> str:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrations.upgrade(url)
    return url


def _postgres(url: str) -> str:
    with engine_for(url).begin() as db:
        db.execute(text("DROP SCHEMA public CASCADE"))
        db.execute(text("CREATE SCHEMA public"))
    migrations.upgrade(url)
    return url


def _service(url: str, env: dict[str, str]) -> VerificationService:
    settings = load_settings({**UNLIMITED, **env})
    return VerificationService(settings, InstantProvider(), RateLimits(settings), db_url=url)


def _us_number(i: int) -> str:
    """The i-th distinct valid US number, spread over 8 area codes and their blocks."""
    areas = ("415", "650", "212", "718", "305", "312", "206", "617")
    return f"+1{areas[i % 8]}{2 + i // 8 % 8}55{i // 64 % 10000:04d}"


def _time(service: VerificationService, first: int, count: int, check: bool) -> tuple[list[float], float]:
    """Seconds of each send (with its check when `check`), and the process's CPU seconds per
    operation (the wall clock of a shared machine also counts other processes). Every code is
    checked, timed or not, so the watch sees the conversion of real users."""
    samples = []
    cpu = time.process_time()
    for i in range(first, first + count):
        started = time.perf_counter()
        sent = service.start(_us_number(i), "US", "sms", f"10.{i % 250}.{i // 250 % 250}.1")
        if not check:
            samples.append(time.perf_counter() - started)
        service.check(sent.verification_id, "123456", "10.0.0.1")
        if check:
            samples.append(time.perf_counter() - started)
    return samples, (time.process_time() - cpu) / count


def cost(make_url) -> dict[str, float]:
    """A send and a send + check, off and on, in alternating batches on two databases: the
    wall-clock p50 of each, and the median over the batches of the process's CPU time per
    verification (every send is checked, so each batch's CPU covers a send and a check), in µs."""
    services = {"off": _service(make_url(), OFF), "on": _service(make_url(), ON)}
    for service in services.values():
        _time(service, 0, 200, True)  # warm-up: imports, caches, statements
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    for batch in range(BATCHES):
        first = 1000 + batch * PER_BATCH * 2
        for what, offset, check in (("send", 0, False), ("verification", PER_BATCH, True)):
            for mode, service in services.items():
                samples, per_op = _time(service, first + offset, PER_BATCH, check)
                wall.setdefault(f"{what}_{mode}", []).extend(samples)
                cpu[mode].append(per_op)
    figures: dict[str, float] = {}
    for what in ("send", "verification"):
        p50 = {mode: statistics.median(wall[f"{what}_{mode}"]) * 1e6 for mode in services}
        figures |= {
            f"{what}_off_p50_us": round(p50["off"], 1),
            f"{what}_on_p50_us": round(p50["on"], 1),
            f"{what}_p50_ratio": round(p50["on"] / p50["off"], 2),
        }
    used = {mode: statistics.median(values) * 1e6 for mode, values in cpu.items()}
    return figures | {
        "verification_off_cpu_us": round(used["off"], 1),
        "verification_on_cpu_us": round(used["on"], 1),
        "verification_cpu_added_us": round(used["on"] - used["off"], 1),
        "verification_cpu_ratio": round(used["on"] / used["off"], 2),
    }


def _mobiles(region: str, count: int) -> list[str]:
    """Up to `count` valid mobile numbers of `region`, each in a block of its own where the
    numbering plan allows (the attacker's best case against the watch)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164) if example else ""
    found: list[str] = []
    for i in range(100):
        number = base[:-7] + str(i % 10) + base[-6:-5] + str(i // 10) + base[-4:]
        if number not in found and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            found.append(number)
    return found[:count]


def _burst(service: VerificationService, sends: list[tuple[str, str, str]]) -> dict[str, object]:
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for index, (e164, region, channel) in enumerate(sends):
        try:
            service.start(e164, region, channel, f"10.{index // 250}.{index % 250}.9")
            key = "sent"
        except SendRefused as refused:
            key = refused.reason
        except InvalidPhone:
            key = "invalid-number"
        outcomes[key] = outcomes.get(key, 0) + 1
    return {"sends": len(sends), **outcomes, "seconds": round(time.perf_counter() - started, 2)}


def bursts() -> dict[str, object]:
    """What the defaults (rate limits included) let through of the issue's two bursts."""
    block = [(f"+14155{r:02d}{n:04d}", "US", "sms") for n in range(10) for r in range(30)]
    spread = []
    for region in COUNTRIES:
        for number in _mobiles(region, 6):
            spread.append((number, region, "voice" if len(spread) % 10 == 9 else "sms"))
    spread = spread[:300]
    return {
        "one_block": _burst(_service(_sqlite(), {}), block),
        "fifty_countries": _burst(_service(_sqlite(), {}), spread),
    }


def main() -> None:
    results: dict[str, object] = {"sqlite": cost(_sqlite)}
    pg = os.environ.get("BENCH_PG_URL")
    if pg:
        prepared = _postgres(pg)
        results["postgresql"] = cost(lambda: prepared)
    results["bursts_at_the_defaults"] = bursts()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
