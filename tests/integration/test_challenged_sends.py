"""The challenge before a risky send, over HTTP: the JSON API's routes with the real Plivo SDK
to the sandbox, the service on a real database, answers solved by ALTCHA's own solver (what
the page's web component does in the browser).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import altcha
import httpx
import pytest
from conftest import TEST_REDIS_URL, Clock, Sandbox, free_port, sandbox_provider, serve

from plivo_otp_app import messages
from plivo_otp_app.api import build_api
from plivo_otp_app.config import load_settings
from plivo_otp_app.errors import ChallengeRequired, SendRefused
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import Started, VerificationService

ATTACK_BLOCK = "+14155"


def solve(body: dict[str, Any]) -> str:
    """The answer to the challenge of an API body (`GET /api/otp/challenge`, a 428)."""
    challenge = altcha.Challenge.from_dict(body["challenge"])
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


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


def test_a_challenged_send_goes_through_with_its_answer_once(
    api_on: Callable[..., httpx.Client], sandbox: Sandbox
):
    client = api_on(PUMPING_CHALLENGE_PREFIXES="+1415")
    send = {"recipient": "+14155550134", "channel": "sms"}

    held = client.post("/api/otp/send", json=send)
    assert held.status_code == 428
    body = held.json()
    assert (body["code"], body["message"], body["provider"]) == (
        "challenge_required",
        messages.CHALLENGE_REQUIRED,
        "pow",
    )
    assert sandbox.store.messages() == []

    answer = solve(body)
    sent = client.post("/api/otp/send", json={**send, "challenge": answer})
    assert sent.status_code == 200, sent.text
    assert [m.recipient for m in sandbox.store.messages()] == ["+14155550134"]

    again = client.post("/api/otp/send", json={**send, "challenge": answer})  # taken once
    assert again.status_code == 428 and again.json()["code"] == "challenge_required"
    resend = client.post("/api/otp/resend", json={"session_uuid": sent.json()["session_uuid"]})
    assert resend.status_code in (428, 429)  # a resend is challenged too (after its cooldown)


def test_a_challenge_from_the_get_route_answers_a_later_send(
    api_on: Callable[..., httpx.Client], sandbox: Sandbox
):
    client = api_on(PUMPING_CHALLENGE_PREFIXES="+1415")
    issued = client.get("/api/otp/challenge")
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    assert issued.json()["challenge"]["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    sent = client.post("/api/otp/send", json={"recipient": "+14155550135", "challenge": solve(issued.json())})
    assert sent.status_code == 200, sent.text


@pytest.mark.parametrize("answer", [12, ["x"], {"a": 1}, True])
def test_a_challenge_field_that_is_not_a_string_is_refused_before_any_work(
    api_on: Callable[..., httpx.Client], sandbox: Sandbox, answer: object
):
    client = api_on(PUMPING_CHALLENGE_PREFIXES="+1415")
    refused = client.post("/api/otp/send", json={"recipient": "+14155550136", "challenge": answer})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_input"
    assert sandbox.store.messages() == []


def test_a_wrong_answer_is_held_like_none(api_on: Callable[..., httpx.Client], sandbox: Sandbox):
    client = api_on(PUMPING_CHALLENGE_PREFIXES="+1415")
    held = client.post(
        "/api/otp/send", json={"recipient": "+14155550137", "challenge": "bm90IGFuIGFuc3dlcg=="}
    )
    assert held.status_code == 428
    assert sandbox.store.messages() == []


def test_a_bot_that_solves_every_challenge_still_gets_only_the_harder_limit(
    defended: Callable[..., VerificationService], sandbox: Sandbox
) -> None:
    """Issue 12's attack again, by a bot that pays each proof of work: 300 sends over 30 ranges of
    one block, each from a fresh address. The block is challenged from 10 unverified sends and
    refused from 20, so 20 codes are delivered, whatever the bot solves (the range limit is
    raised: the bot asks twice per number)."""
    service = defended(RATE_LIMIT_SEND_PER_PREFIX="1000/hour")
    attack = [f"+14155{r:02d}{n:04d}" for n in range(10) for r in range(30)]

    def pump(index: int) -> object:
        address = f"10.66.{index // 250}.{index % 250}"
        try:
            return service.start(attack[index], "US", "sms", address)
        except ChallengeRequired:
            answer = solve(service.issue_challenge())
            try:
                return service.start(attack[index], "US", "sms", address, challenge=answer)
            except (SendRefused, ChallengeRequired) as exc:
                return exc
        except SendRefused as exc:
            return exc

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(pump, range(len(attack))))
    sent = [r for r in results if isinstance(r, Started)]
    limit = service.settings.pumping.block_unverified * service.settings.pumping.refuse_factor
    assert len(sent) == limit == 20
    sandbox_count = sum(1 for m in sandbox.store.messages() if m.recipient.startswith(ATTACK_BLOCK))
    assert sandbox_count == 20
    assert {r.reason for r in results if isinstance(r, SendRefused)} == {"watch-block"}
