"""The pumping defences on the send path, from the real defaults: the real Plivo SDK over HTTP to
the sandbox, the service on a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

The simulation is the attack of issue 12: a leased block, sends spread over 30 of its ranges,
each from a fresh address, none verified, in a burst of parallel requests, with ordinary users
in the same country and in others who all verify. The budget and the watch are also raced.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import phonenumbers
import pytest
from conftest import TEST_REDIS_URL, Clock, Sandbox, free_port, run_at_once, sandbox_provider, serve
from sqlalchemy import func, select

from plivo_otp_app import messages
from plivo_otp_app.api import build_api
from plivo_otp_app.config import load_settings
from plivo_otp_app.db import transaction
from plivo_otp_app.errors import ChallengeRequired, ProviderRejected, ProviderUnavailable, SendRefused
from plivo_otp_app.models import AuditEvent, User
from plivo_otp_app.pumping import MICROS
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import Checked, Started, VerificationService
from plivo_otp_app.services.admin import AdminService, Range

ATTACK_BLOCK = "+14155"
RANGES = 30
PER_RANGE = 10
#: Ordinary users abroad: a valid mobile number in each of these countries.
ABROAD = ("GB", "DE", "FR", "AU", "JP", "IN", "BR", "MX", "ES", "IT")
PARALLEL = 8


def attack_number(range_index: int, number: int) -> str:
    return f"+14155{range_index:02d}{number:04d}"


def numbers_in_other_blocks(count: int) -> list[str]:
    """`count` valid US numbers, each in a block of its own (not the attack's, no sandbox fault number)."""
    found: list[str] = []
    for area in range(205, 990):
        for exchange in range(2, 10):
            e164 = f"+1{area}{exchange}550123"
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)) and e164[:-6] not in (
                ATTACK_BLOCK,
                "+12025",
            ):
                found.append(e164)
                if len(found) == count:
                    return found
    raise AssertionError("not enough blocks")


def abroad_numbers(per_country: int) -> list[tuple[str, str]]:
    """(E.164, region) of valid mobile numbers abroad, `per_country` in each of `ABROAD`."""
    found: list[tuple[str, str]] = []
    for region in ABROAD:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for index in range(per_country):
            e164 = base[:-2] + f"{index:02d}"
            assert phonenumbers.is_valid_number(phonenumbers.parse(e164)), e164
            found.append((e164, region))
    return found


@pytest.fixture
def defended(sandbox: Sandbox, db_url: str, clock: Clock) -> Callable[..., VerificationService]:
    """A service with every default (rate limits and defences), but for `env`."""

    def make(**env: str) -> VerificationService:
        base = {"RATE_LIMIT_STORAGE_URL": TEST_REDIS_URL} if TEST_REDIS_URL else {}
        settings = load_settings({**base, **env})
        provider = sandbox_provider(sandbox.base_url, settings.otp.code_length)
        return VerificationService(settings, provider, RateLimits(settings), db_url=db_url, clock=clock.now)

    return make


@pytest.fixture
def mid_hour(clock: Clock) -> Clock:
    """The clock moved to half past the hour, so a test's sends fall in one clock hour."""
    now = clock.now()
    clock.advance((30 - now.minute) * 60 - now.second)
    return clock


def delivered_to_block(sandbox: Sandbox, block: str) -> int:
    """Codes the sandbox delivered to numbers of `block` (any prefix of E.164)."""
    return sum(1 for m in sandbox.store.messages() if m.recipient.lstrip("+").startswith(block.lstrip("+")))


def delivered_to(sandbox: Sandbox, e164: str) -> int:
    return delivered_to_block(sandbox, e164)


def test_a_pumping_burst_on_one_block_gets_a_small_share_and_ordinary_users_all_verify(
    defended: Callable[..., VerificationService], sandbox: Sandbox, clock: Clock, db_url: str
) -> None:
    service = defended()
    attack = [attack_number(r, n) for n in range(PER_RANGE) for r in range(RANGES)]  # round robin
    ordinary = [(e164, "US") for e164 in numbers_in_other_blocks(20)] + abroad_numbers(2)

    def pump(index: int) -> object:
        try:
            return service.start(attack[index], "US", "sms", f"10.66.{index // 250}.{index % 250}")
        except (SendRefused, ChallengeRequired) as refused:  # a bot that solves no challenge
            return refused

    def ordinary_user(index: int) -> Checked:
        e164, region = ordinary[index]
        address = f"192.0.2.{index + 1}"
        started = service.start(e164, region, "sms", address)
        return service.check(started.verification_id, sandbox.code_for(started.e164), address)

    with ThreadPoolExecutor(PARALLEL) as pool:
        attacks, users = [], []
        for index in range(len(attack)):
            attacks.append(pool.submit(pump, index))
            if index % 7 == 3 and len(users) < len(ordinary):  # ordinary users among the attack's requests
                users.append(pool.submit(ordinary_user, len(users)))
        users += [pool.submit(ordinary_user, index) for index in range(len(users), len(ordinary))]
        results = [future.result() for future in attacks]
        verified = [future.result() for future in users]

    sent = [r for r in results if isinstance(r, Started)]
    challenged = [r for r in results if isinstance(r, ChallengeRequired)]
    assert len(sent) + len(challenged) == len(attack)
    threshold = service.settings.pumping.block_unverified
    assert len(sent) == threshold == delivered_to_block(sandbox, ATTACK_BLOCK)  # 10 of 300
    assert {r.reason for r in challenged} == {"watch-block"}
    assert all(isinstance(c, Checked) for c in verified) and len(verified) == 40
    assert service.pumping.challenges(clock.now() - timedelta(hours=1)) == {"watch-block": 290}

    # The operator sees the block: on the dashboard's flagged groups and refusals, and in the trail.
    span = Range(clock.now() - timedelta(hours=1), clock.now() + timedelta(minutes=1))
    operator = User(
        id=1,
        username="ops",
        display_username="ops",
        password_hash="-",
        role="admin",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    admin = AdminService(service.settings, service.audit, db_url, clock.now)
    flagged = {(g.scope, g.key): g.refused for g in admin.flagged_groups(operator, span)}
    assert flagged == {("block", ATTACK_BLOCK): 290}
    assert admin.dashboard(operator, span).refusals == [
        {"reason": "watch-block", "kind": "send_challenged", "count": 290}
    ]
    with transaction(db_url) as db:
        trail = db.execute(
            select(AuditEvent.kind, AuditEvent.range_key, func.count()).group_by(  # type: ignore[arg-type]
                AuditEvent.kind, AuditEvent.range_key
            )
        ).all()
    held = {key for kind, key, _ in trail if kind == "send_challenged"}
    assert len(held) == RANGES and all(key.startswith(ATTACK_BLOCK) for key in held)
    assert sum(n for kind, _, n in trail if kind == "group_flagged") == 1
    assert sum(n for kind, key, n in trail if kind == "send_sent" and key.startswith(ATTACK_BLOCK)) == 10


def test_parallel_sends_overshoot_the_spend_cap_by_zero(
    defended: Callable[..., VerificationService], sandbox: Sandbox, mid_hour: Clock
) -> None:
    service = defended(
        PUMPING_DEFAULT_PRICE="1",
        PUMPING_HOURLY_BUDGET="7",
        PUMPING_COUNTRY_HOURLY_BUDGET="0",
        PUMPING_COUNTRY_DAILY_BUDGET="0",
        PUMPING_DAILY_BUDGET="0",
    )
    numbers = numbers_in_other_blocks(24)
    results = run_at_once(24, lambda i: service.start(numbers[i], "US", "sms", f"10.77.0.{i + 1}"))
    sent = [r for r in results if isinstance(r, Started)]
    assert len(sent) == 7, results
    assert all(isinstance(r, SendRefused) and r.reason == "budget-hour" for r in results if r not in sent)
    assert sum(delivered_to(sandbox, e164) for e164 in numbers) == 7
    with service.db() as db:
        spent = db.connection().exec_driver_sql(
            "SELECT spent FROM otp_send_tally WHERE scope = 'spend-hour' AND key = '*'"
        )
        assert [row[0] for row in spent] == [7 * MICROS]


def test_parallel_sends_to_one_range_deliver_exactly_the_watch_count(
    defended: Callable[..., VerificationService], sandbox: Sandbox
) -> None:
    service = defended(RATE_LIMIT_SEND_PER_PREFIX="100/hour")
    numbers = [attack_number(7, n) for n in range(20)]
    results = run_at_once(20, lambda i: service.start(numbers[i], "US", "sms", f"10.88.0.{i + 1}"))
    assert sum(isinstance(r, Started) for r in results) == service.settings.pumping.range_unverified == 5
    assert delivered_to_block(sandbox, "+1415507") == 5


def test_a_code_sent_before_its_group_was_throttled_can_still_be_checked(
    defended: Callable[..., VerificationService], sandbox: Sandbox
) -> None:
    service = defended()
    first, *others = (service.start(attack_number(3, n), "US", "sms", f"10.99.0.{n}") for n in range(5))
    assert len(others) == 4
    with pytest.raises(ChallengeRequired):
        service.start(attack_number(3, 5), "US", "sms", "10.99.0.5")
    checked = service.check(first.verification_id, sandbox.code_for(first.e164), "10.99.0.0")
    assert checked.e164 == first.e164


def test_a_resend_to_a_throttled_group_is_refused_and_not_paid(
    defended: Callable[..., VerificationService], sandbox: Sandbox, clock: Clock
) -> None:
    service = defended(PUMPING_REFUSE_FACTOR="1")
    started = [service.start(attack_number(4, n), "US", "sms", f"10.98.0.{n}") for n in range(5)]
    with pytest.raises(SendRefused):
        service.start(attack_number(4, 5), "US", "sms", "10.98.0.5")
    clock.advance(31)
    with pytest.raises(SendRefused):
        service.resend(started[0].verification_id, "sms", "10.98.0.0")
    assert delivered_to(sandbox, started[0].e164) == 1


def test_a_send_the_provider_refused_is_given_back_and_a_timeout_stays_spent(
    defended: Callable[..., VerificationService], sandbox: Sandbox, mid_hour: Clock
) -> None:
    service = defended(
        PUMPING_DEFAULT_PRICE="1", PUMPING_HOURLY_BUDGET="1", PUMPING_COUNTRY_HOURLY_BUDGET="0"
    )
    ordinary = numbers_in_other_blocks(2)
    with pytest.raises(ProviderRejected):
        service.start("+12025550100", "US", "sms", "10.97.0.1")  # the sandbox refuses it: nothing sent
    service.start(ordinary[0], "US", "sms", "10.97.0.2")  # so the one send of the budget is still there

    mid_hour.advance(3600)
    with pytest.raises(ProviderUnavailable):
        service.start("+12025550104", "US", "sms", "10.97.0.3")  # hangs past the timeout: may have sent
    with pytest.raises(SendRefused):
        service.start(ordinary[1], "US", "sms", "10.97.0.4")


@pytest.fixture
def api_on(defended: Callable[..., VerificationService]) -> Iterator[Callable[..., httpx.Client]]:
    servers, clients = [], []

    def make(**env: str) -> httpx.Client:
        service = defended(**env)
        port = free_port()
        servers.append(serve(build_api(lambda: service), port))
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.should_exit = True


def test_every_refusal_answers_the_same_over_the_api_and_is_logged_by_reason(
    api_on: Callable[..., httpx.Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plivo_otp_app")
    # The watch refuses at its threshold, and one address may ask for all eight (no challenges here).
    client = api_on(
        PUMPING_DEFAULT_PRICE="1",
        PUMPING_COUNTRY_HOURLY_BUDGET="6",
        PUMPING_REFUSE_FACTOR="1",
        PUMPING_ADDRESS_SENDS="0",
    )

    def send(recipient: str) -> httpx.Response:
        return client.post("/api/otp/send", json={"recipient": recipient, "channel": "sms"})

    for n in range(5):
        assert send(attack_number(5, n)).status_code == 200
    watched = send(attack_number(5, 5))
    high_risk = send("+994501234567")
    assert send(numbers_in_other_blocks(1)[0]).status_code == 200  # the sixth of the US's cap of 6
    budget = send(numbers_in_other_blocks(2)[1])

    answers = {(r.status_code, r.text, r.headers.get("retry-after")) for r in (watched, high_risk, budget)}
    assert len(answers) == 1
    assert watched.status_code == 429 and watched.headers.get("retry-after") is None
    assert watched.json() == {
        "code": "send_refused",
        "message": messages.SEND_REFUSED,
        "error": messages.SEND_REFUSED,
    }

    logged = [r.fields for r in caplog.records if r.getMessage() == "send_refused"]  # type: ignore[attr-defined]
    assert [f["reason"] for f in logged] == ["watch-range", "country-high-risk", "budget-country-hour"]
    assert all("+" in f["phone"] and "*" in f["phone"] for f in logged)


#: One worker process of the two-worker race: the service on the shared database and sandbox,
#: 20 sends in parallel threads released at one wall-clock moment; prints how many went.
_WORKER = """
import json, sys, threading, time
from datetime import UTC, datetime, timedelta
from plivo_otp_app.config import load_settings
from plivo_otp_app.errors import SendRefused
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService
from conftest import sandbox_provider

db_url, base_url, offset, start_at, *numbers = sys.argv[1:]
offset, start_at = float(offset), float(start_at)
settings = load_settings(json.loads(sys.stdin.read()))
clock = lambda: datetime.now(UTC) + timedelta(seconds=offset)
provider = sandbox_provider(base_url)
service = VerificationService(settings, provider, RateLimits(settings), db_url=db_url, clock=clock)
service.check_database()
outcomes = []
def send(i):
    time.sleep(max(0.0, start_at - time.time()))
    try:
        service.start(numbers[i], "US", "sms", f"10.55.{i}.{len(numbers)}")
        outcomes.append("sent")
    except SendRefused as exc:
        outcomes.append(exc.reason)
threads = [threading.Thread(target=send, args=(i,)) for i in range(len(numbers))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(outcomes))
"""


def test_two_worker_processes_overshoot_the_spend_cap_by_zero(
    db_url: str, sandbox: Sandbox, mid_hour: Clock
) -> None:
    env = {
        "PUMPING_DEFAULT_PRICE": "1",
        "PUMPING_HOURLY_BUDGET": "9",
        "PUMPING_DAILY_BUDGET": "0",
        "PUMPING_COUNTRY_HOURLY_BUDGET": "0",
        "PUMPING_COUNTRY_DAILY_BUDGET": "0",
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
    }
    numbers = numbers_in_other_blocks(40)
    start_at = time.time() + 4  # both processes imported and connected by then
    tests = Path(__file__).resolve().parents[1]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                db_url,
                sandbox.base_url,
                str(mid_hour.offset),
                str(start_at),
                *part,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tests.parent,
            env={**os.environ, "PYTHONPATH": str(tests)},
        )
        for part in (numbers[:20], numbers[20:])
    ]
    outcomes: list[str] = []
    for worker in workers:
        out, err = worker.communicate(json.dumps(env), timeout=120)
        assert worker.returncode == 0, err[-3000:]
        outcomes += json.loads(out.strip().splitlines()[-1])
    assert outcomes.count("sent") == 9, outcomes
    assert outcomes.count("budget-hour") == 31
    assert sum(delivered_to(sandbox, e164) for e164 in numbers) == 9
