"""The password-reset routes over real HTTP: start, verify, complete (and resend), with the same
answers for a name that has no account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import free_port, serve
from reflex_base.environment import environment
from test_auth_api import PASSWORD, PHONE, _user

from plivo_otp_app.api import build_api
from plivo_otp_app.services import Services

NEW_PASSWORD = "a brand new tangerine bicycle hums"


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10, follow_redirects=False) as http:
        yield http


@pytest.fixture
def server(accounts: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The routes as the one-port deployment serves them, as in `test_auth_api`."""
    monkeypatch.setenv(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.name, "true")
    port = free_port()
    app_server = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True


def _without_token(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "reset_token"}


def test_a_reset_over_json_changes_the_password_and_ends_the_sessions(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=False)
    signed_in = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {signed_in['session_token']}"}

    start = client.post("/api/auth/reset/start", json={"username": "alice"})
    assert start.status_code == 200
    body = start.json()
    assert body["status"] == "code_required" and "phone" not in body and "recipient" not in body
    token = body["reset_token"]
    early = client.post("/api/auth/reset/complete", json={"reset_token": token, "new_password": NEW_PASSWORD})
    assert early.status_code == 400 and early.json()["code"] == "expired"
    verified = client.post(
        "/api/auth/reset/verify", json={"reset_token": token, "otp": sandbox.code_for(PHONE)}
    )
    assert verified.json() == {"status": "verified", "backup_code_required": False}
    done = client.post("/api/auth/reset/complete", json={"reset_token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json() == {"status": "password_changed"}

    assert client.get("/api/auth/me", headers=bearer).status_code == 401
    old = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/auth/login", json={"username": "alice", "password": NEW_PASSWORD})
    assert new.json()["status"] == "signed_in"


def test_with_2fa_the_json_reset_takes_a_backup_code(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=True)
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", "192.0.2.1")
    codes = accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, sandbox.code_for(PHONE), "192.0.2.1"
    )
    token = client.post("/api/auth/reset/start", json={"username": "alice@example.com"}).json()["reset_token"]
    verified = client.post(
        "/api/auth/reset/verify", json={"reset_token": token, "otp": sandbox.code_for(PHONE)}
    )
    assert verified.json()["backup_code_required"] is True
    body = {"reset_token": token, "new_password": NEW_PASSWORD}
    missing = client.post("/api/auth/reset/complete", json=body)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_input"
    wrong = client.post("/api/auth/reset/complete", json=body | {"backup_code": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "backup_code_incorrect"
    done = client.post("/api/auth/reset/complete", json=body | {"backup_code": codes[0]})
    assert done.status_code == 200


def test_an_unknown_name_gets_the_same_answers_over_json(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=False)
    answers = []
    for name in ("alice", "nobody"):
        start = client.post("/api/auth/reset/start", json={"username": name})
        token = start.json()["reset_token"]
        wrong = client.post("/api/auth/reset/verify", json={"reset_token": token, "otp": "000000"})
        if wrong.status_code == 200:  # the one code in a million that is alice's
            pytest.skip("the guess was the code")
        resend = client.post("/api/auth/reset/resend", json={"reset_token": token})
        complete = client.post(
            "/api/auth/reset/complete", json={"reset_token": token, "new_password": NEW_PASSWORD}
        )
        answers.append(
            [
                (start.status_code, _without_token(start.json())),
                (wrong.status_code, wrong.json()),
                (resend.status_code, resend.json()),
                (complete.status_code, complete.json()),
            ]
        )
    assert answers[0] == answers[1]
    assert answers[0][1][1]["code"] == "code_incorrect"


def test_bad_reset_bodies_get_400(client):
    assert client.post("/api/auth/reset/start", json={}).status_code == 400
    assert client.post("/api/auth/reset/start", json={"username": 7}).status_code == 400
    assert client.post("/api/auth/reset/verify", json={"reset_token": "x"}).status_code == 400
    bogus = client.post("/api/auth/reset/verify", json={"reset_token": "x", "otp": "123456"})
    assert bogus.status_code == 400 and bogus.json()["code"] == "expired"
