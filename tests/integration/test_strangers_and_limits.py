"""What strangers can do to someone else's limits, over real HTTP behind a trusted proxy.

Each attacker request comes from its own forwarded address (the proxy is 127.0.0.2,
believed for one hop), with the default limits, and the victim is a user with SMS
two-factor login. Anonymous verifications and sign-ups are flows anyone can start
for any number; the codes to an account's own verified phone count against the
account and (with the sandbox's second Verify application) are other codes, so no
stranger's sends or guesses block the owner's login. Sign-up sends, which anyone
can make, stay under the per-address and per-number limits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import free_port, one_verify_application, serve
from starlette.applications import Starlette

from plivo_otp_app import config
from plivo_otp_app.api import api_routes
from plivo_otp_app.errors import OtpError, RateLimited
from plivo_otp_app.services import Services

PROXY = "127.0.0.2"
PASSWORD = "correct horse battery staple quietly"
VICTIM = "+14155552671"
VICTIM_IP = "203.0.113.7"
_addresses = (f"198.51.{a}.{b}" for a, b in itertools.product(range(100, 110), range(1, 255)))


def fresh_address() -> dict[str, str]:
    """A forwarded-for header naming an address no request used before."""
    return {"X-Forwarded-For": next(_addresses)}


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


Serve = Callable[..., tuple[Services, httpx.Client]]


@pytest.fixture
def serve_app(make_accounts, monkeypatch) -> Iterator[Serve]:
    """Serve the API on the accounts built from `**env`; a client that connects as the proxy."""
    monkeypatch.setenv("TRUSTED_PROXIES", PROXY)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")  # uvicorn must not rewrite the peer itself
    monkeypatch.setenv("REFLEX_TRUSTED_PROXY_HOPS", "1")
    config.get_settings.cache_clear()
    servers, clients = [], []

    def start(**env: str) -> tuple[Services, httpx.Client]:
        accounts: Services = make_accounts(**env)
        port = free_port()
        servers.append(
            serve(Starlette(routes=api_routes(lambda: accounts.verifications, lambda: accounts)), port)
        )
        transport = httpx.HTTPTransport(local_address=PROXY)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=15)
        clients.append(client)
        return accounts, client

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.should_exit = True
    monkeypatch.undo()
    config.get_settings.cache_clear()


def victim_with_2fa(accounts: Services, sandbox) -> int:
    """alice, whose verified phone gets her login codes."""
    result = accounts.signups.signup("alice", "alice@example.com", PASSWORD, VICTIM, "US", "sms", VICTIM_IP)
    assert result.user_id is not None
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(VICTIM), VICTIM_IP
    )
    started = accounts.account_changes.start_enable_2fa(result.user_id, "sms", VICTIM_IP)
    accounts.account_changes.finish_enable_2fa(
        result.user_id, started.verification_id, sandbox.code_for(VICTIM), VICTIM_IP
    )
    return result.user_id


def victim_signs_in(client: httpx.Client, sandbox) -> None:
    """The right password gets a code delivered to the phone, and that code signs in."""
    before = len(sandbox.store.messages(VICTIM))
    headers = {"X-Forwarded-For": VICTIM_IP}
    step = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}, headers=headers)
    assert step.status_code == 200, step.text
    body = step.json()
    assert body["status"] == "code_required" and body["expires_in"] > 0, body
    assert "send_error" not in body
    assert len(sandbox.store.messages(VICTIM)) == before + 1
    done = client.post(
        "/api/auth/login/verify",
        json={"login_token": body["login_token"], "otp": sandbox.code_for(VICTIM)},
        headers=headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "signed_in", done.text


def test_a_stranger_burning_an_anonymous_code_to_the_number_does_not_block_the_owners_login(
    serve_app, sandbox
):
    accounts, client = serve_app()
    victim_with_2fa(accounts, sandbox)
    sent = client.post("/api/otp/send", json={"recipient": VICTIM}, headers=fresh_address())
    assert sent.status_code == 200, sent.text
    code = sandbox.code_for(VICTIM)
    for _ in range(5):
        guess = {"session_uuid": sent.json()["session_uuid"], "otp": wrong(code)}
        assert client.post("/api/otp/verify", json=guess, headers=fresh_address()).status_code == 400

    victim_signs_in(client, sandbox)

    # The burnt anonymous code still holds anonymous sends to the number until it expires.
    again = client.post("/api/otp/send", json={"recipient": VICTIM}, headers=fresh_address())
    assert again.status_code == 429 and "wrong codes" in again.json()["message"]


def test_strangers_using_up_the_number_blocks_limit_do_not_block_the_owners_login(serve_app, sandbox):
    accounts, client = serve_app()
    victim_with_2fa(accounts, sandbox)
    for index in range(8):  # other numbers in the victim's 10,000-number block
        other = {"recipient": f"+1415555{2700 + index}"}
        assert client.post("/api/otp/send", json=other, headers=fresh_address()).status_code == 200

    victim_signs_in(client, sandbox)

    # The block's limit (10 an hour) still holds for anonymous sends: the sign-up, 8, then one more.
    assert client.post(
        "/api/otp/send", json={"recipient": "+14155552790"}, headers=fresh_address()
    ).is_success
    refused = client.post("/api/otp/send", json={"recipient": "+14155552791"}, headers=fresh_address())
    assert refused.status_code == 429 and sandbox.store.messages("+14155552791") == []


def test_strangers_using_up_the_numbers_daily_limit_do_not_block_the_owners_login(serve_app, sandbox):
    accounts, client = serve_app(RATE_LIMIT_SEND_PER_NUMBER="10/day")
    victim_with_2fa(accounts, sandbox)
    answers = [
        client.post("/api/otp/send", json={"recipient": VICTIM}, headers=fresh_address()).status_code
        for _ in range(10)
    ]
    assert answers == [200] * 9 + [429]  # the sign-up's code was the day's first

    victim_signs_in(client, sandbox)


def test_a_login_whose_code_was_refused_says_so_and_claims_no_code(serve_app, sandbox):
    accounts, client = serve_app(RATE_LIMIT_SEND_PER_ACCOUNT="1/hour")
    victim_with_2fa(accounts, sandbox)  # turning 2FA on used the account's one code this hour
    before = len(sandbox.store.messages(VICTIM))

    step = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Forwarded-For": VICTIM_IP},
    )

    body = step.json()
    assert step.status_code == 200 and body["status"] == "code_not_sent", body
    assert "expires_in" not in body and "resend_after" not in body
    assert body["send_error"].startswith("We could not send you a code. Too many codes sent.")
    assert "You can use a backup code." in body["send_error"]
    assert body["send_error_code"] == "rate_limited" and 3500 < body["retry_after"] <= 3600
    assert body["login_token"] and len(sandbox.store.messages(VICTIM)) == before


def test_the_nth_plus_one_sign_up_send_from_one_address_is_refused(make_accounts, sandbox):
    accounts = make_accounts(RATE_LIMIT_SEND_PER_IP="3/hour")
    for index in range(3):  # taken or not, each sign-up sends one code
        accounts.signups.signup(
            f"user{index}", None, PASSWORD, f"+1415555{2700 + index}", "US", "sms", VICTIM_IP
        )
    with pytest.raises(RateLimited) as refused:
        accounts.signups.signup("alice", None, PASSWORD, "+14155552710", "US", "sms", VICTIM_IP)
    assert refused.value.scope == "send-ip" and sandbox.store.messages("+14155552710") == []


def test_the_nth_plus_one_sign_up_send_to_one_number_is_refused(make_accounts, sandbox):
    """Probing taken names costs the prober one SMS to their own phone per name, under the limits."""
    accounts = make_accounts()  # 3 codes per number in 10 minutes
    accounts.signups.signup("alice", None, PASSWORD, VICTIM, "US", "sms", VICTIM_IP)
    for index in range(2):
        taken = accounts.signups.signup(
            "alice", None, PASSWORD, "+14155552700", "US", "sms", f"192.0.2.{index}"
        )
        assert taken.user_id is None
    accounts.signups.signup("bob", None, PASSWORD, "+14155552700", "US", "sms", "192.0.2.9")
    with pytest.raises(RateLimited) as refused:
        accounts.signups.signup("alice", None, PASSWORD, "+14155552700", "US", "sms", "192.0.2.10")
    assert refused.value.scope == "send-number" and len(sandbox.store.messages("+14155552700")) == 3


def test_with_one_verify_application_a_burnt_code_holds_the_owners_login_until_it_expires(
    make_accounts, sandbox, clock
):
    """Plivo keeps one code per number and application: without PLIVO_ACCOUNT_APP_UUID the
    login would re-deliver the code strangers burnt, so the lock spans every flow, and the
    login says the code was not sent and for how long."""
    accounts = make_accounts()
    accounts.verifications.settings = one_verify_application(accounts.verifications.settings)
    victim_with_2fa(accounts, sandbox)
    started = accounts.verifications.start(VICTIM, "US", "sms", "198.51.100.1")
    code = sandbox.code_for(VICTIM)
    for index in range(5):
        with pytest.raises(OtpError):
            accounts.verifications.check(started.verification_id, wrong(code), f"198.51.100.{10 + index}")

    held = accounts.logins.login("alice", PASSWORD, VICTIM_IP, None)
    assert held.started is None and isinstance(held.send_error, RateLimited)
    assert held.send_error.scope == "verification-locked"

    clock.advance(301)
    assert accounts.logins.login("alice", PASSWORD, VICTIM_IP, None).started is not None
