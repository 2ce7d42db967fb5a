"""`PlivoProvider` through the real `plivo` SDK against the sandbox over HTTP.

Every fault number maps to the right typed error, the hang is cut by the read
timeout, a create is sent exactly once (PRV-03), transport and credential
failures fail closed (PRV-01), validate outcomes and session status are read
correctly, and credentials stay out of the logs (LOG-02).
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from conftest import sandbox_provider
from starlette.applications import Starlette

from plivo_otp_app.config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN
from plivo_otp_app.errors import ProviderRejected, ProviderUnavailable
from plivo_otp_app.providers import Outcome, PlivoProvider
from plivo_otp_app.sandbox.api import build_routes
from plivo_otp_app.sandbox.faults import FAULTS

PHONE = "+14155552671"
HANG_PHONE = "+12025550104"
SANDBOX_HANG_SECONDS = 3.0  # as in tests/conftest.py
READ_TIMEOUT = 1.0  # the `provider` fixture's

EXPECTED_FAULT_ERRORS = {
    "+12025550100": ProviderRejected,  # 400 -> ValidationError
    "+12025550101": ProviderRejected,  # 403 on create -> GeoPermissionError
    "+12025550102": ProviderUnavailable,  # 429 -> base PlivoRestError
    "+12025550103": ProviderUnavailable,  # 500 -> PlivoServerError
    HANG_PHONE: ProviderUnavailable,  # hang -> requests ReadTimeout
}
#: Its texts are reported undelivered (in the callbacks); a call gets through.
UNDELIVERED_PHONE = "+12025550105"
STATUS_FAULTS = [e164 for e164, fault in FAULTS.items() if fault.status]


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def session_for(sandbox, e164: str):
    found = [s for s in sandbox.store.sessions() if s.recipient == e164.lstrip("+")]
    assert len(found) <= 1
    return found[0] if found else None


@dataclass
class CountingSandbox:
    """A second HTTP face on the shared sandbox store that counts every request it receives."""

    base_url: str
    seen: list[tuple[str, str]] = field(default_factory=list)

    def creates(self) -> int:
        return sum(1 for method, path in self.seen if method == "POST" and path.endswith("/Session/"))


@pytest.fixture(scope="module")
def counting_server(sandbox_server) -> Iterator[CountingSandbox]:
    inner = Starlette(routes=build_routes(sandbox_server.store, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, 0.5))
    port = closed_port()
    counting = CountingSandbox(f"http://127.0.0.1:{port}")

    async def app(scope, receive, send):
        if scope["type"] == "http":
            counting.seen.append((scope["method"], scope["path"]))
        await inner(scope, receive, send)

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "counting sandbox did not start"
        time.sleep(0.02)
    yield counting
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def counting(counting_server, sandbox) -> CountingSandbox:
    """The counting face, its count reset, on the test's (emptied) sandbox."""
    counting_server.seen.clear()
    return counting_server


def test_send_returns_the_session_uuid(provider, sandbox):
    session_id = provider.send(PHONE, "sms")
    uuid.UUID(session_id)
    session = sandbox.store.get(session_id)
    assert session.recipient == PHONE.lstrip("+")
    assert session.channel == "sms"
    assert len(session.code) == 6
    [message] = sandbox.store.messages(PHONE)
    assert message.channel == "sms"


def test_send_by_voice_then_sms_reuses_the_session(provider, sandbox):
    first = provider.send(PHONE, "voice")
    second = provider.send(PHONE, "sms")
    assert first == second
    assert [m.channel for m in sandbox.store.messages(PHONE)] == ["sms", "voice"]


def test_create_options_reach_the_sandbox(sandbox):
    provider = PlivoProvider(
        SANDBOX_AUTH_ID,
        SANDBOX_AUTH_TOKEN,
        sandbox.base_url,
        connect_timeout=1.0,
        read_timeout=1.0,
        code_length=4,
        brand_name="Acme",
        locale="fr",
    )
    session = sandbox.store.get(provider.send(PHONE, "sms"))
    assert len(session.code) == 4
    assert session.locale == "fr"
    assert "Acme" in sandbox.store.messages(PHONE)[0].text


def test_every_fault_number_has_an_expected_error():
    assert set(FAULTS) == {*EXPECTED_FAULT_ERRORS, UNDELIVERED_PHONE}


def test_the_undelivered_number_takes_the_send_but_its_text_never_arrives(provider, sandbox):
    session = sandbox.store.get(provider.send(UNDELIVERED_PHONE, "sms"))
    assert [a["status"] for a in session.attempts] == ["undelivered"]
    assert sandbox.store.messages(UNDELIVERED_PHONE) == []
    provider.send(UNDELIVERED_PHONE, "voice")  # a call of the same code gets through
    [call] = sandbox.store.messages(UNDELIVERED_PHONE)
    assert (call.channel, call.code) == ("voice", session.code)
    assert [a["status"] for a in sandbox.store.get(session.session_uuid).attempts] == [
        "undelivered",
        "delivered",
    ]


@pytest.mark.parametrize("e164", STATUS_FAULTS)
def test_fault_number_maps_to_typed_error(provider, sandbox, caplog, e164):
    caplog.set_level(logging.DEBUG, logger="plivo_otp_app")
    with pytest.raises(EXPECTED_FAULT_ERRORS[e164]):
        provider.send(e164, "sms")
    assert session_for(sandbox, e164) is None
    assert sandbox.store.messages(e164) == []
    [record] = [r for r in caplog.records if r.getMessage() == "provider_error"]
    assert record.fields["op"] == "create"
    assert record.fields["status"] == FAULTS[e164].status
    assert record.fields["phone"] == "+1******" + e164[-4:]


def test_geo_permission_block_is_reported_as_geo_permission_error(provider, sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="plivo_otp_app")
    with pytest.raises(ProviderRejected):
        provider.send("+12025550101", "sms")
    errors = [r.fields["error"] for r in caplog.records if r.getMessage() == "provider_error"]
    assert errors == ["GeoPermissionError"]


def test_hang_is_cut_by_the_read_timeout_and_the_create_is_not_retried(provider, sandbox):
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        provider.send(HANG_PHONE, "sms")
    elapsed = time.monotonic() - started
    assert READ_TIMEOUT * 0.9 <= elapsed < READ_TIMEOUT + 1.0 < SANDBOX_HANG_SECONDS

    # The sandbox finishes the hung request later and creates the session then.
    # A retry sent right after the timeout would land one hang later as a second
    # attempt on the same session, so wait past that point before counting.
    deadline = started + SANDBOX_HANG_SECONDS + READ_TIMEOUT + 1.5
    while session_for(sandbox, HANG_PHONE) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(max(0.0, started + READ_TIMEOUT + SANDBOX_HANG_SECONDS + 0.4 - time.monotonic()))
    session = session_for(sandbox, HANG_PHONE)
    assert session is not None, "the hung create never reached the sandbox"
    assert len(session.attempts) == 1
    assert len(sandbox.store.messages(HANG_PHONE)) == 1


@pytest.mark.parametrize("e164", STATUS_FAULTS)
def test_failed_create_is_sent_exactly_once(counting, e164):
    provider = sandbox_provider(counting.base_url)
    with pytest.raises(EXPECTED_FAULT_ERRORS[e164]):
        provider.send(e164, "sms")
    time.sleep(0.2)  # room for a retry to show up
    assert counting.creates() == 1
    assert len(counting.seen) == 1


def test_successful_create_is_sent_exactly_once(counting, sandbox):
    provider = sandbox_provider(counting.base_url)
    provider.send(PHONE, "sms")
    assert counting.creates() == 1
    assert len(sandbox.store.messages(PHONE)) == 1


def test_timed_out_create_is_sent_exactly_once(counting, sandbox):
    provider = PlivoProvider(
        SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, counting.base_url, connect_timeout=1.0, read_timeout=0.2
    )
    with pytest.raises(ProviderUnavailable):
        provider.send(HANG_PHONE, "sms")
    deadline = time.monotonic() + 3
    while session_for(sandbox, HANG_PHONE) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert counting.creates() == 1
    assert len(session_for(sandbox, HANG_PHONE).attempts) == 1


def _every_call_unavailable(provider: PlivoProvider, session_id: str, code: str) -> None:
    """Send, validate and status each fail as ProviderUnavailable."""
    with pytest.raises(ProviderUnavailable):
        provider.send(PHONE, "sms")
    with pytest.raises(ProviderUnavailable):
        provider.validate(session_id, code)
    with pytest.raises(ProviderUnavailable):
        provider.status(session_id)


def test_connection_refused_is_provider_unavailable(sandbox):
    provider = sandbox_provider(f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    _every_call_unavailable(provider, str(uuid.uuid4()), "123456")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("auth_id", "auth_token"),
    [
        (SANDBOX_AUTH_ID, "wrong-token"),
        ("MAWRONGWRONGWRONGWRO", SANDBOX_AUTH_TOKEN),
        ("MA123", SANDBOX_AUTH_TOKEN),  # refused by the SDK before any request
        ("", ""),
    ],
)
def test_wrong_credentials_are_provider_unavailable(sandbox, monkeypatch, auth_id, auth_token):
    # An empty auth id makes the SDK read the environment; make sure there is nothing to find.
    monkeypatch.delenv("PLIVO_AUTH_ID", raising=False)
    monkeypatch.delenv("PLIVO_AUTH_TOKEN", raising=False)
    good = PlivoProvider(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, sandbox.base_url, 1.0, 1.0)
    session_id = good.send(PHONE, "sms")
    code = sandbox.code_for(PHONE)

    bad = PlivoProvider(auth_id, auth_token, sandbox.base_url, 1.0, 1.0)
    _every_call_unavailable(bad, session_id, code)
    session = sandbox.store.get(session_id)
    assert len(session.attempts) == 1
    assert session.validations == 0
    assert session.status == "in-progress"


def test_credentials_never_reach_the_logs_on_401(sandbox, caplog):
    secret = "s3cret-token-do-not-log"
    caplog.set_level(logging.DEBUG)  # everything: the app, the SDK, urllib3
    provider = PlivoProvider(SANDBOX_AUTH_ID, secret, sandbox.base_url, 1.0, 1.0)
    _every_call_unavailable(provider, str(uuid.uuid4()), "123456")

    basic = base64.b64encode(f"{SANDBOX_AUTH_ID}:{secret}".encode()).decode()
    app_records = [r for r in caplog.records if r.name.startswith("plivo_otp_app")]
    assert {r.fields["op"] for r in app_records if r.getMessage() == "provider_error"} == {
        "create",
        "validate",
        "get",
    }
    assert all(r.fields.get("status") == 401 for r in app_records if r.getMessage() == "provider_error")
    for record in caplog.records:
        text = f"{record.getMessage()} {getattr(record, 'fields', '')} {record.exc_text or ''}"
        assert secret not in text
        assert basic not in text
    for record in app_records:
        # The auth id travels in the URL path; the app's own events never carry it.
        assert SANDBOX_AUTH_ID not in f"{record.getMessage()} {record.fields}"
        assert PHONE not in f"{record.getMessage()} {record.fields}"


def test_validate_right_code_is_valid(provider, sandbox):
    session_id = provider.send(PHONE, "sms")
    assert provider.validate(session_id, sandbox.code_for(PHONE)) is Outcome.VALID
    assert sandbox.store.get(session_id).status == "verified"


def test_validate_wrong_code_is_wrong(provider, sandbox):
    session_id = provider.send(PHONE, "sms")
    assert provider.validate(session_id, wrong_code(sandbox.code_for(PHONE))) is Outcome.WRONG
    assert sandbox.store.get(session_id).validations == 1
    assert provider.validate(session_id, sandbox.code_for(PHONE)) is Outcome.VALID


def test_validate_after_expiry_is_expired(provider, sandbox, clock):
    session_id = provider.send(PHONE, "sms")
    clock.advance(sandbox.store.expiry_seconds + 1)
    assert provider.validate(session_id, sandbox.code_for(PHONE)) is Outcome.EXPIRED


def test_validate_twice_is_used(provider, sandbox):
    session_id = provider.send(PHONE, "sms")
    code = sandbox.code_for(PHONE)
    assert provider.validate(session_id, code) is Outcome.VALID
    assert provider.validate(session_id, code) is Outcome.USED
    assert provider.validate(session_id, wrong_code(code)) is Outcome.USED


def test_validate_unknown_session_is_expired(provider, sandbox):
    assert provider.validate(str(uuid.uuid4()), "123456") is Outcome.EXPIRED


def test_validate_after_the_sandbox_cap_is_never_valid(provider, sandbox):
    session_id = provider.send(PHONE, "sms")
    code = sandbox.code_for(PHONE)
    for _ in range(10):
        assert provider.validate(session_id, wrong_code(code)) is Outcome.WRONG
    assert provider.validate(session_id, code) is not Outcome.VALID


def test_status_follows_the_session(provider, sandbox, clock):
    verified = provider.send(PHONE, "sms")
    assert provider.status(verified) == "in-progress"
    provider.validate(verified, sandbox.code_for(PHONE))
    assert provider.status(verified) == "verified"

    expiring = provider.send("+14155550123", "sms")
    clock.advance(sandbox.store.expiry_seconds + 1)
    assert provider.status(expiring) == "expired"
    assert provider.status(verified) == "verified"


def test_status_of_unknown_session_is_provider_unavailable(provider, sandbox):
    with pytest.raises(ProviderUnavailable):
        provider.status(str(uuid.uuid4()))


def test_provider_is_usable_from_many_threads(provider, sandbox):
    numbers = [f"+1415555{n:04d}" for n in range(2670, 2678)]
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def send(e164: str) -> None:
        try:
            results[e164] = provider.send(e164, "sms")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert len(set(results.values())) == len(numbers)
    for e164, session_id in results.items():
        assert provider.validate(session_id, sandbox.code_for(e164)) is Outcome.VALID
