"""The error contract of every JSON route, over real HTTP, against the README's table of codes.

Each error path of each route is walked once on the real services, sandbox and
SQLite: every error body has a `code`, a `message` sentence and the deprecated
`error` (the same sentence), and the set of codes the API emits is exactly the
set `README.md` documents, each with the status the README gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, sandbox_provider, serve

from plivo_otp_app.api import build_api
from plivo_otp_app.audit import Audit
from plivo_otp_app.config import SANDBOX_AUTH_TOKEN
from plivo_otp_app.jsonhttp import MAX_BODY_BYTES
from plivo_otp_app.providers.plivo import callback_url
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.sandbox.callbacks import form_for, sign
from plivo_otp_app.services import DeliveryService, Services, VerificationService, get_delivery_service

README = Path(__file__).resolve().parents[2] / "README.md"
PASSWORD = "correct horse battery staple quietly"
PHONE = "+14155552671"
JSON = {"content-type": "application/json"}
UNKNOWN_SESSION = "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b"
TIGHT = {
    "RATE_LIMIT_SEND_PER_NUMBER": "3/hour",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": "3/hour",
    # Sends to +1415555019x always need a solved challenge.
    "PUMPING_CHALLENGE_PREFIXES": "+1415555019",
}


def documented_codes() -> dict[str, int]:
    """`code -> status` from the README's "### Errors" table."""
    section = README.read_text().split("### Errors", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", section, re.MULTILINE)
    assert rows, "README has no table of error codes"
    return {code: int(status) for code, status in rows}


class Recorder:
    """Checks each error answer's shape and remembers which code came with which status."""

    def __init__(self) -> None:
        self.seen: dict[str, set[int]] = {}

    def check(self, response: httpx.Response, code: str) -> dict:
        assert response.headers["content-type"].startswith("application/json"), response.text
        assert response.headers.get("cache-control") == "no-store"
        body = response.json()
        assert body.get("code") == code, (code, response.status_code, body)
        assert isinstance(body.get("message"), str) and body["message"].strip()
        assert body.get("error") == body["message"]
        self.seen.setdefault(code, set()).add(response.status_code)
        return body


@pytest.fixture
def serve_api() -> Iterator[Callable[..., httpx.Client]]:
    servers, clients = [], []

    def make(
        service: Callable[[], VerificationService],
        accounts: Callable[[], Services],
        deliveries: Callable[[], DeliveryService] = get_delivery_service,
    ) -> httpx.Client:
        port = free_port()
        servers.append(serve(build_api(service, accounts, deliveries), port))
        clients.append(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.should_exit = True


def _two_factor_user(accounts: Services, sandbox) -> None:
    result = accounts.signups.signup("alice", "alice@example.com", PASSWORD, PHONE, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(PHONE), "192.0.2.1"
    )
    started = accounts.account_changes.start_enable_2fa(result.user_id, "sms", "192.0.2.1")
    accounts.account_changes.finish_enable_2fa(
        result.user_id, started.verification_id, sandbox.code_for(PHONE), "192.0.2.1"
    )


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_every_error_path_has_a_code_and_a_message_and_the_codes_are_the_documented_ones(
    make_accounts, make_settings, sandbox, serve_api, db_url
):
    accounts = make_accounts(**TIGHT)
    _two_factor_user(accounts, sandbox)
    api = serve_api(lambda: accounts.verifications, lambda: accounts)
    seen = Recorder()

    def post(path: str, body: object = None, **kwargs: object) -> httpx.Response:
        return api.post(path, json=body, **kwargs) if body is not None else api.post(path, **kwargs)

    # The transport, the same on every route.
    for path in (
        "/api/otp/send",
        "/api/otp/resend",
        "/api/otp/verify",
        "/api/auth/login",
        "/api/auth/logout",
    ):
        seen.check(api.get(path), "method_not_allowed")
        seen.check(
            post(path, content=b"{}", headers={"content-type": "text/plain"}), "unsupported_media_type"
        )
        seen.check(post(path, content=b"{" * (MAX_BODY_BYTES + 1), headers=JSON), "body_too_large")
        seen.check(post(path, content=b"{not json", headers=JSON), "invalid_json")
        seen.check(post(path, content=b"[1]", headers=JSON), "invalid_json")
    for path in ("/api/health", "/api/auth/me"):
        seen.check(api.post(path, json={}), "method_not_allowed")

    # /api/otp/send
    seen.check(post("/api/otp/send", {}), "invalid_input")
    seen.check(post("/api/otp/send", {"recipient": PHONE, "channel": "fax"}), "invalid_input")
    seen.check(post("/api/otp/send", {"recipient": "12345"}), "invalid_phone")
    seen.check(post("/api/otp/send", {"recipient": "+12025550100"}), "provider_rejected")
    seen.check(post("/api/otp/send", {"recipient": "+12025550103"}), "provider_unavailable")
    seen.check(post("/api/otp/send", {"recipient": "+994501234567"}), "send_refused")  # high-risk: AZ
    seen.check(post("/api/otp/send", {"recipient": "+14155550190"}), "challenge_required")
    seen.check(post("/api/otp/send", {"recipient": PHONE, "challenge": 7}), "invalid_input")
    first = post("/api/otp/send", {"recipient": "+14155550123"})
    assert first.status_code == 200, first.text
    session_uuid = first.json()["session_uuid"]
    for _ in range(3):
        post("/api/otp/send", {"recipient": "+14155550124"})
    limited = post("/api/otp/send", {"recipient": "+14155550124"})
    assert seen.check(limited, "rate_limited")["retry_after"] == int(limited.headers["retry-after"])

    # /api/otp/resend
    seen.check(post("/api/otp/resend", {}), "invalid_input")
    seen.check(post("/api/otp/resend", {"session_uuid": session_uuid}), "rate_limited")  # the cooldown
    seen.check(post("/api/otp/resend", {"session_uuid": UNKNOWN_SESSION}), "expired")

    # /api/otp/verify
    seen.check(post("/api/otp/verify", {"session_uuid": session_uuid}), "invalid_input")
    wrong = _wrong(sandbox.code_for("+14155550123"))
    body = seen.check(post("/api/otp/verify", {"session_uuid": session_uuid, "otp": wrong}), "code_incorrect")
    for _ in range(body["attempts_left"] - 1):
        seen.check(post("/api/otp/verify", {"session_uuid": session_uuid, "otp": wrong}), "code_incorrect")
    seen.check(post("/api/otp/verify", {"session_uuid": session_uuid, "otp": wrong}), "too_many_attempts")
    seen.check(post("/api/otp/verify", {"session_uuid": UNKNOWN_SESSION, "otp": "123456"}), "expired")

    # /api/auth/login, /login/verify, /login/resend
    seen.check(post("/api/auth/login", {"username": "alice"}), "invalid_input")
    seen.check(post("/api/auth/login", {"username": 1, "password": PASSWORD}), "invalid_input")
    surrogate = b'{"username": "\\ud800", "password": "x"}'
    seen.check(post("/api/auth/login", content=surrogate, headers=JSON), "invalid_input")
    seen.check(
        post("/api/auth/login", {"username": "alice", "password": "wrong " * 4}), "invalid_credentials"
    )
    step = post("/api/auth/login", {"username": "alice", "password": PASSWORD})
    assert step.status_code == 200 and step.json()["status"] == "code_required", step.text
    token = step.json()["login_token"]
    verify = "/api/auth/login/verify"
    seen.check(post(verify, {"login_token": token}), "invalid_input")
    seen.check(post(verify, {"login_token": token, "backup_code": "not a code"}), "invalid_input")
    seen.check(
        post(verify, {"login_token": token, "backup_code": "ABCD-EFGH-JKLM-NPQR"}), "backup_code_incorrect"
    )
    seen.check(post(verify, {"login_token": token, "otp": _wrong(sandbox.code_for(PHONE))}), "code_incorrect")
    seen.check(post(verify, {"login_token": "x" * 43, "otp": "123456"}), "expired")
    seen.check(post("/api/auth/login/resend", {"login_token": token}), "rate_limited")  # the cooldown
    seen.check(post("/api/auth/login/resend", {"login_token": "x" * 43}), "expired")
    seen.check(post("/api/auth/login/resend", {"login_token": token, "channel": "fax"}), "invalid_input")
    wrong_password = {"username": "alice", "password": "wrong " * 4}
    seen.check(post("/api/auth/login", wrong_password), "invalid_credentials")  # the name's third
    seen.check(post("/api/auth/login", wrong_password), "rate_limited")

    # /api/auth/me, /api/auth/logout
    seen.check(api.get("/api/auth/me"), "not_signed_in")
    seen.check(api.get("/api/auth/me", headers={"authorization": "Bearer nope"}), "not_signed_in")
    seen.check(post("/api/auth/logout", {}, headers={"authorization": "Bearer nope"}), "not_signed_in")

    # The cookie routes' refusals are JSON too.
    cross_site = {"sec-fetch-site": "cross-site"}
    seen.check(api.get("/api/session/complete", params={"ticket": "x"}, headers=cross_site), "cross_site")
    seen.check(api.get("/api/session/logout", headers=cross_site), "cross_site")
    seen.check(api.get("/api/session/logout", params={"next": "http://[::1"}), "invalid_input")
    for path in ("/api/session/complete", "/api/session/logout"):
        refused = seen.check(api.post(path), "method_not_allowed")
        assert refused["message"] and api.post(path).headers["allow"] == "GET, HEAD"
    seen.check(api.get("/api/session/complete", params={"fail": "http://[::1"}), "invalid_input")

    # /api/plivo/status: Plivo's delivery callbacks, signed as the sandbox (and Plivo) signs them.
    audit = Audit(accounts.verifications.settings.audit, db_url)
    deliveries = DeliveryService(accounts.verifications.settings, accounts.verifications, audit, db_url)
    plivo = serve_api(lambda: accounts.verifications, lambda: accounts, lambda: deliveries)
    status, url = "/api/plivo/status", callback_url(deliveries.settings)  # the URL Plivo signs for
    report = form_for(UNKNOWN_SESSION, {"attempt_uuid": UNKNOWN_SESSION, "channel": "sms"}, 1, PHONE, "sent")
    signed = sign(url, report, SANDBOX_AUTH_TOKEN)
    form = {"content-type": "application/x-www-form-urlencoded"}
    seen.check(plivo.get(status), "method_not_allowed")
    seen.check(plivo.post(status, json=report), "unsupported_media_type")
    seen.check(plivo.post(status, data={"x": "y" * MAX_BODY_BYTES}), "body_too_large")
    seen.check(plivo.post(status, content=b"Channel=sms&Channel=voice", headers=form), "invalid_form")
    seen.check(plivo.post(status, data=report), "unsigned")
    seen.check(
        plivo.post(status, data={**report, "ChannelStatus": "failed"}, headers=signed), "bad_signature"
    )
    no_session = {k: v for k, v in report.items() if k != "SessionUUID"}
    seen.check(
        plivo.post(status, data=no_session, headers=sign(url, no_session, SANDBOX_AUTH_TOKEN)),
        "invalid_input",
    )
    old = {**report, "RequestTime": "2020-01-01 00:00:00.000000 +0000 UTC"}
    seen.check(plivo.post(status, data=old, headers=sign(url, old, SANDBOX_AUTH_TOKEN)), "stale")
    assert plivo.post(status, data=report, headers=signed).status_code == 200
    seen.check(plivo.post(status, data=report, headers=signed), "replayed")
    no_callbacks = DeliveryService(make_settings(OTP_PROVIDER="fake"), accounts.verifications, audit, db_url)
    fake = serve_api(lambda: accounts.verifications, lambda: accounts, lambda: no_callbacks)
    seen.check(fake.post(status, data=report, headers=signed), "not_found")

    # A database that is gone: health and the routes answer 503.
    settings = make_settings()
    broken = VerificationService(
        settings,
        sandbox_provider(sandbox.base_url),
        RateLimits(settings),
        db_url="sqlite:////nonexistent-directory/otp.db",
    )
    down = serve_api(lambda: broken, lambda: accounts)
    health = down.get("/api/health")
    seen.check(health, "unavailable")
    seen.check(
        down.post("/api/otp/verify", json={"session_uuid": UNKNOWN_SESSION, "otp": "123456"}), "unavailable"
    )

    # A service that cannot be built is a bug on our side: 500, in the same shape.
    def cannot_build() -> VerificationService:
        raise RuntimeError("misconfigured")

    seen.check(
        serve_api(cannot_build, lambda: accounts).post("/api/otp/send", json={"recipient": PHONE}), "internal"
    )

    documented = documented_codes()
    assert set(seen.seen) == set(documented), (
        f"emitted but undocumented: {set(seen.seen) - set(documented)}; "
        f"documented but never emitted: {set(documented) - set(seen.seen)}"
    )
    for code, statuses in seen.seen.items():
        assert statuses == {documented[code]}, (code, statuses, documented[code])
