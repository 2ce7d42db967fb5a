"""Plivo's delivery callbacks over real HTTP: signed by the sandbox as Plivo signs them (the SDK's
own V3 signing), checked by the app with the SDK's validators, stored once, audited, and the
voice fallback of an undelivered SMS (the sandbox's magic number +1 202 555 0105), offered or
made at once.

The callback route runs in uvicorn on a loopback port on a real verification service, whose
provider (the real Plivo wrapper) hands the sandbox that route's URL: the sandbox then posts
its own signed callbacks to it, as Plivo would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import Clock, Sandbox, run_at_once, serve
from harness import free_port
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from plivo_otp_app.audit import Audit, AuditKind
from plivo_otp_app.callbacks import MAX_BODY_BYTES, callback_routes
from plivo_otp_app.config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, Settings
from plivo_otp_app.db import transaction
from plivo_otp_app.enums import Purpose
from plivo_otp_app.models import AuditEvent, DeliveryReport
from plivo_otp_app.providers import PlivoProvider
from plivo_otp_app.providers.plivo import CALLBACK_PATH
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.sandbox.api import build_routes
from plivo_otp_app.sandbox.callbacks import form_for, loopback_only, sign
from plivo_otp_app.sandbox.store import SandboxStore
from plivo_otp_app.services import DeliveryService, Started, VerificationService
from plivo_otp_app.services import verification_sql as sql

MOBILE = "+14155552671"
UNDELIVERED = "+12025550105"  # the sandbox's magic number: its texts are undelivered
#: The attempt the tests' own callbacks report on (the sandbox's own have ids of their own).
ATTEMPT = "0f3c2b1a-0000-4000-8000-000000000001"
_events = AuditEvent.__table__  # type: ignore[attr-defined]
_reports = DeliveryReport.__table__  # type: ignore[attr-defined]


@dataclass
class Callbacks:
    """The callback route on a running server, its services and an HTTP client."""

    url: str
    client: httpx.Client
    deliveries: DeliveryService
    verifications: VerificationService
    db_url: str

    def post(self, form: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
        signed = sign(self.url, form, SANDBOX_AUTH_TOKEN) if headers is None else headers
        return self.client.post(self.url, data=form, headers=signed)

    def rows(self, kind: AuditKind) -> list:
        with transaction(self.db_url) as db:
            return db.execute(select(_events).where(_events.c.kind == str(kind))).all()

    def mine(self) -> list:
        """The delivery rows of the tests' own attempt."""
        return [r for r in self.rows(AuditKind.DELIVERY_STATUS) if r.detail == f"attempt {ATTEMPT}"]

    def reports(self) -> list[tuple[str, str, str]]:
        with transaction(self.db_url) as db:
            query = select(_reports.c.channel, _reports.c.status, _reports.c.error_code)
            return sorted(tuple(row) for row in db.execute(query).all())

    def wait_for_reports(self, count: int) -> list[tuple[str, str, str]]:
        """The reports once `count` have come (the sandbox posts them half a second apart)."""
        deadline = time.monotonic() + 10
        while len(found := self.reports()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return found


@pytest.fixture
def make_callbacks(
    sandbox: Sandbox, db_url: str, clock: Clock, make_settings: Callable[..., Settings]
) -> Iterator[Callable[..., Callbacks]]:
    """`make_callbacks(**env)`: the callback route on its own port, on a service whose sends
    name that route as their callback URL."""
    servers, clients = [], []

    def make(**env: str) -> Callbacks:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = make_settings(PLIVO_CALLBACK_BASE_URL=base, **env)
        provider = PlivoProvider(
            SANDBOX_AUTH_ID,
            SANDBOX_AUTH_TOKEN,
            sandbox.base_url,
            connect_timeout=1.0,
            read_timeout=1.0,
            callback_url=base + CALLBACK_PATH,
        )
        verifications = VerificationService(
            settings, provider, RateLimits(settings), db_url=db_url, clock=clock.now
        )
        audit = Audit(settings.audit, db_url, clock.now)
        deliveries = DeliveryService(settings, verifications, audit, db_url, clock.now)
        servers.append(serve(Starlette(routes=callback_routes(lambda: deliveries)), port))
        client = httpx.Client(timeout=10)
        clients.append(client)
        return Callbacks(base + CALLBACK_PATH, client, deliveries, verifications, db_url)

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.should_exit = True


@pytest.fixture
def callbacks(make_callbacks: Callable[..., Callbacks]) -> Callbacks:
    return make_callbacks()


def started(callbacks: Callbacks, phone: str = MOBILE) -> Started:
    return callbacks.verifications.start(phone, "US", "sms", "203.0.113.9")


def report_form(session_uuid: str, status: str = "delivered", **changes: str) -> dict[str, str]:
    attempt = {"attempt_uuid": ATTEMPT, "channel": "sms"}
    return {**form_for(session_uuid, attempt, 1, MOBILE, status), **changes}


def provider_session(callbacks: Callbacks, sent: Started) -> str:
    with transaction(callbacks.db_url) as db:
        row = sql.get(db, sent.verification_id)
    assert row is not None
    return row.provider_session_id


def test_a_signed_callback_is_stored_and_audited_once_however_often_it_is_retried(callbacks):
    sent = started(callbacks)
    session = provider_session(callbacks, sent)
    form = report_form(session, "delivered")
    first = callbacks.post(form)
    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": True}
    # Plivo's retry: the same fields, signed again with a fresh nonce.
    for _ in range(3):
        retry = callbacks.post(form)
        assert retry.status_code == 200
        assert retry.json() == {"recorded": False}
    [row] = callbacks.mine()
    assert row.provider_session_id == session
    assert row.outcome == "delivered"
    assert row.channel == "sms"
    assert row.phone_masked == "+1******2671"
    assert row.country == "US"


def test_each_status_of_an_attempt_is_its_own_row(callbacks):
    session = provider_session(callbacks, started(callbacks))
    for status in ("queued", "sent", "undelivered"):
        assert callbacks.post(report_form(session, status, ChannelErrorCode="80")).status_code == 200
    outcomes = {r.outcome: r.error_code for r in callbacks.mine()}
    assert outcomes == {"queued": "80", "sent": "80", "undelivered": "80"}


def test_a_tampered_callback_is_refused_and_stores_nothing(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session, "delivered")
    headers = sign(callbacks.url, form, SANDBOX_AUTH_TOKEN)
    tampered = {**form, "ChannelStatus": "undelivered"}
    response = callbacks.post(tampered, headers)
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    # Another session's id under the same signature is refused the same way.
    assert callbacks.post({**form, "SessionUUID": "someone-else"}, headers).status_code == 403
    assert callbacks.mine() == []


def test_a_callback_signed_with_another_token_is_refused(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session)
    response = callbacks.post(form, sign(callbacks.url, form, "not-the-sandbox-token"))
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"


def test_a_callback_signed_for_another_url_is_refused(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session)
    response = callbacks.post(
        form, sign("https://attacker.example/api/plivo/status", form, SANDBOX_AUTH_TOKEN)
    )
    assert response.status_code == 403


def test_a_replayed_nonce_is_refused_also_by_another_worker(make_callbacks):
    first, second = make_callbacks(), make_callbacks()  # two workers, one database
    session = provider_session(first, started(first))
    form = report_form(session)
    headers = sign(first.url, form, SANDBOX_AUTH_TOKEN)
    assert first.post(form, headers).status_code == 200
    replay = first.post(form, headers)
    assert replay.status_code == 409
    assert replay.json()["code"] == "replayed"
    # The second worker has its own URL (port): signed for it with the same nonce, still a replay.
    again = sign(second.url, form, SANDBOX_AUTH_TOKEN)
    again["X-Plivo-Signature-V3-Nonce"] = headers["X-Plivo-Signature-V3-Nonce"]
    base = construct_post_url(second.url, dict(form)).decode()
    nonce = headers["X-Plivo-Signature-V3-Nonce"]
    again["X-Plivo-Signature-V3"] = get_signature_v3(
        SANDBOX_AUTH_TOKEN.encode(), base, nonce.encode()
    ).decode()
    del again["X-Plivo-Signature-V2"], again["X-Plivo-Signature-V2-Nonce"]
    assert second.post(form, again).status_code == 409


def test_parallel_replays_store_one(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session, "sent")
    headers = sign(callbacks.url, form, SANDBOX_AUTH_TOKEN)
    statuses = run_at_once(8, lambda _: callbacks.post(form, headers).status_code)
    assert sorted(statuses) == [200] + [409] * 7


@pytest.mark.parametrize("offset", [timedelta(seconds=-901), timedelta(seconds=120)])
def test_a_stale_or_future_callback_is_refused(callbacks, offset):
    session = provider_session(callbacks, started(callbacks))
    when = (datetime.now(UTC) + offset).strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC")
    response = callbacks.post(report_form(session, RequestTime=when))
    assert response.status_code == 403
    assert response.json()["code"] == "stale"


def test_a_callback_within_the_age_is_taken(callbacks):
    session = provider_session(callbacks, started(callbacks))
    when = (datetime.now(UTC) - timedelta(seconds=800)).isoformat()
    assert callbacks.post(report_form(session, RequestTime=when)).status_code == 200


def test_an_unsigned_callback_is_refused(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session)
    assert callbacks.post(form, {}).json()["code"] == "unsigned"
    assert callbacks.post(form, {}).status_code == 401
    v2_only = {k: v for k, v in sign(callbacks.url, form, SANDBOX_AUTH_TOKEN).items() if "V2" in k}
    assert callbacks.post(form, v2_only).status_code == 401


def test_a_wrong_v2_signature_beside_a_right_v3_is_refused(callbacks):
    session = provider_session(callbacks, started(callbacks))
    form = report_form(session)
    headers = sign(callbacks.url, form, SANDBOX_AUTH_TOKEN)
    headers["X-Plivo-Signature-V2"] = sign(callbacks.url, form, "other")["X-Plivo-Signature-V2"]
    assert callbacks.post(form, headers).status_code == 403
    del headers["X-Plivo-Signature-V2-Nonce"]
    assert callbacks.post(form, headers).status_code == 403


def test_malformed_callbacks_get_a_clear_error(callbacks):
    session = provider_session(callbacks, started(callbacks))
    url = callbacks.url
    client = callbacks.client
    form = report_form(session)
    assert client.post(url, json=form).status_code == 415
    big = {**form, "Padding": "x" * MAX_BODY_BYTES}
    assert callbacks.post(big).status_code == 413
    assert client.get(url).status_code == 405
    twice = "&".join(f"{k}={v}" for k, v in form.items()) + "&ChannelStatus=failed"
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(url, form, SANDBOX_AUTH_TOKEN)}
    answer = client.post(url, content=twice.encode(), headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_form")
    bad_bytes = client.post(url, content=b"Channel=\xff\xfe", headers=headers)
    assert bad_bytes.status_code == 400
    for name in ("SessionUUID", "AttemptUUID", "ChannelStatus", "RequestTime"):
        without = {k: v for k, v in form.items() if k != name}
        answer = callbacks.post(without)
        assert answer.status_code == 400, name
        assert name in answer.json()["message"]
    for name, value in (("Channel", "fax"), ("RequestTime", "yesterday"), ("Recipient", "+1<script>")):
        answer = callbacks.post({**form, name: value})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_input"), name
    assert callbacks.mine() == []


def test_the_sandbox_posts_signed_callbacks_for_every_attempt(callbacks):
    sent = started(callbacks)
    assert callbacks.wait_for_reports(2) == [("sms", "delivered", ""), ("sms", "sent", "")]
    assert callbacks.deliveries.fallback_state(sent.verification_id) == ""
    assert callbacks.deliveries.call_instead(sent.verification_id, "203.0.113.9") is None


def test_an_undelivered_sms_offers_one_call_of_the_same_code(callbacks, sandbox):
    sent = started(callbacks, UNDELIVERED)
    assert sandbox.store.messages(UNDELIVERED) == []  # the text never reached the phone
    assert callbacks.wait_for_reports(2) == [("sms", "sent", ""), ("sms", "undelivered", "80")]
    assert callbacks.deliveries.fallback_state(sent.verification_id) == "offer"
    called = callbacks.deliveries.call_instead(sent.verification_id, "203.0.113.9")
    assert called is not None and called.channel == "voice"
    [call] = sandbox.store.messages(UNDELIVERED)
    assert call.channel == "voice"
    assert callbacks.deliveries.call_instead(sent.verification_id, "203.0.113.9") is None
    assert callbacks.deliveries.fallback_state(sent.verification_id) == "called"
    [fallback] = callbacks.rows(AuditKind.CHANNEL_FALLBACK)
    assert (fallback.outcome, fallback.channel, fallback.phone_masked) == ("offer", "voice", "+1******0105")
    # The call carries the very code of the session: it verifies.
    assert callbacks.verifications.check(sent.verification_id, call.code, "203.0.113.9").e164 == UNDELIVERED


def test_no_call_is_offered_for_a_delivered_sms_or_with_the_fallback_off(make_callbacks, sandbox):
    off = make_callbacks(OTP_FALLBACK="off")
    sent = started(off, UNDELIVERED)
    off.wait_for_reports(2)
    assert off.deliveries.fallback_state(sent.verification_id) == ""
    assert off.deliveries.call_instead(sent.verification_id, "203.0.113.9") is None
    assert [m for m in sandbox.store.messages(UNDELIVERED) if m.channel == "voice"] == []


def test_fallback_call_mode_calls_at_once_and_once(make_callbacks, sandbox):
    callbacks = make_callbacks(OTP_FALLBACK="call")
    sent = started(callbacks, UNDELIVERED)
    callbacks.wait_for_reports(4)  # sent, undelivered, then the call's in-progress and completed
    [call] = sandbox.store.messages(UNDELIVERED)
    assert call.channel == "voice"
    assert callbacks.deliveries.fallback_state(sent.verification_id) == "called"
    [fallback] = callbacks.rows(AuditKind.CHANNEL_FALLBACK)
    assert fallback.outcome == "call"
    assert ("voice", "completed", "") in callbacks.reports()
    checked = callbacks.verifications.check(sent.verification_id, call.code, "203.0.113.9")
    assert checked.e164 == UNDELIVERED


def test_the_sandbox_posts_callbacks_only_where_it_is_allowed_to():
    """Its credentials are public: a session naming another URL gets no callback (no request
    forgery through the sandbox)."""
    received: list[str] = []

    async def record(request: Request) -> PlainTextResponse:
        received.append(request.url.path)
        return PlainTextResponse("ok")

    receiver_port, sandbox_port = free_port(), free_port()
    receiver = serve(Starlette(routes=[Route("/{name}", record, methods=["POST"])]), receiver_port)
    store = SandboxStore()
    allowed = f"http://127.0.0.1:{receiver_port}/allowed"
    routes = build_routes(store, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, 0, lambda url: url == allowed)
    sandbox = serve(Starlette(routes=routes), sandbox_port)
    try:
        base = f"http://127.0.0.1:{sandbox_port}"
        for phone, url in (
            (MOBILE, f"http://127.0.0.1:{receiver_port}/elsewhere"),
            ("+14155552672", allowed),
        ):
            PlivoProvider(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, base, callback_url=url).send(phone, "sms")
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # the other session's would have come by now too
        assert received == ["/allowed", "/allowed"]
    finally:
        receiver.should_exit = sandbox.should_exit = True
    assert not loopback_only("http://169.254.169.254/latest/meta-data")
    assert loopback_only("http://127.0.0.1:8000/api/plivo/status")


@pytest.mark.parametrize("mode", ["offer", "call"])
def test_a_password_reset_never_falls_back(make_callbacks, sandbox, mode):
    """A reset for a name with no account runs a decoy flow nobody reports on: an offer, or a
    call, would tell a real account with an unreachable phone apart from no account."""
    callbacks = make_callbacks(OTP_FALLBACK=mode)
    sent = callbacks.verifications.start(
        UNDELIVERED, "US", "sms", "203.0.113.9", purpose=Purpose.RESET_PASSWORD
    )
    assert callbacks.wait_for_reports(2) == [("sms", "sent", ""), ("sms", "undelivered", "80")]
    time.sleep(1)  # a call at once would have been made by now
    assert callbacks.deliveries.fallback_state(sent.verification_id) == ""
    assert callbacks.deliveries.call_instead(sent.verification_id, "203.0.113.9") is None
    assert sandbox.store.messages(UNDELIVERED) == []
    assert callbacks.rows(AuditKind.CHANNEL_FALLBACK) == []
