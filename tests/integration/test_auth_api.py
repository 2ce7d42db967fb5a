"""The login routes over real HTTP: the cookie routes browsers use, and the JSON login."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from conftest import free_port, serve
from reflex_base.environment import environment
from sqlalchemy import text

from plivo_otp_app.api import build_api
from plivo_otp_app.db import engine_for
from plivo_otp_app.errors import InvalidInput
from plivo_otp_app.services import Services

PASSWORD = "correct horse battery staple quietly"
PHONE = "+14155552671"
#: The browser cookie of the browser that logged in ("A"), and of another browser ("B").
BROWSER, OTHER_BROWSER = "browser-A-" + "a" * 33, "browser-B-" + "b" * 33
AS_BROWSER = {"Cookie": f"otp_browser={BROWSER}"}


def _ticket(accounts: Services, user_id: int, **options: object) -> str:
    """A ticket as the login handler issues it in browser A."""
    return accounts.sessions.issue_ticket(user_id, browser=BROWSER, **options)


@pytest.fixture
def server(accounts: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The routes as the one-port deployment serves them (the backend serves the pages too)."""
    monkeypatch.setenv(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.name, "true")
    port = free_port()
    app_server = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10, follow_redirects=False, headers=AS_BROWSER) as http:
        yield http


def _user(accounts: Services, sandbox, two_factor: bool) -> int:
    result = accounts.signups.signup("alice", "alice@example.com", PASSWORD, PHONE, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(PHONE), "192.0.2.1"
    )
    if two_factor:
        started = accounts.account_changes.start_enable_2fa(result.user_id, "sms", "192.0.2.1")
        accounts.account_changes.finish_enable_2fa(
            result.user_id, started.verification_id, sandbox.code_for(PHONE), "192.0.2.1"
        )
    return result.user_id


def test_ticket_sets_an_httponly_cookie_once(server, client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id, landing=f"{server}/account")
    response = client.get("/api/session/complete", params={"ticket": ticket})
    assert response.status_code == 303
    assert response.headers["location"] == f"{server}/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("otp_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https adds it
    assert response.headers["cache-control"] == "no-store"
    token = response.cookies["otp_session"]
    assert accounts.sessions.authenticate(token).id == user_id
    again = client.get("/api/session/complete", params={"ticket": ticket, "fail": "/login"})
    assert again.status_code == 303 and again.headers["location"] == "/login"
    assert "set-cookie" not in again.headers


def test_https_cookies_are_secure(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id, remember_device=True)
    response = client.get(
        "/api/session/complete",
        params={"ticket": ticket},
        # uvicorn believes a loopback proxy's X-Forwarded-Proto: this request came over https,
        # where the browser cookie has the __Host- prefix.
        headers={"X-Forwarded-Proto": "https", "Cookie": f"__Host-otp_browser={BROWSER}"},
    )
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("Secure" in c and "HttpOnly" in c for c in cookies)


@pytest.mark.parametrize(
    "landing", ["https://evil.example/account", "//evil.example/account", "javascript:alert(1)"]
)
def test_landing_elsewhere_is_refused(client, accounts, sandbox, landing):
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id, landing=landing)
    response = client.get("/api/session/complete", params={"ticket": ticket})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_cross_site_sign_in_is_refused(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id)
    response = client.get(
        "/api/session/complete", params={"ticket": ticket}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_redeeming_ends_the_browsers_earlier_session(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    first = client.get("/api/session/complete", params={"ticket": _ticket(accounts, user_id)})
    old = first.cookies["otp_session"]
    second = client.get(
        "/api/session/complete",
        params={"ticket": _ticket(accounts, user_id)},
        headers={"Cookie": f"otp_session={old}; otp_browser={BROWSER}"},
    )
    assert second.cookies["otp_session"] != old
    assert accounts.sessions.authenticate(old) is None


def test_logout_route_ends_the_session_and_clears_the_cookie(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    token = accounts.sessions.create_session(user_id, "192.0.2.1", "test")
    response = client.get(
        "/api/session/logout", params={"next": "/login"}, headers={"Cookie": f"otp_session={token}"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (
        'otp_session=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    )
    assert accounts.sessions.authenticate(token) is None


def test_json_login_without_2fa(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=False)
    response = client.post("/api/auth/login", json={"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["status"] == "signed_in"
    token = response.json()["session_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {
        "username": "alice",
        "display_username": "alice",
        "phone": "+1 ******2671",
        "is_phone_verified": True,
        "two_factor_enabled": False,
    }
    assert (
        client.post("/api/auth/logout", json={}, headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_json_login_with_2fa_needs_the_code(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=True)
    step = client.post("/api/auth/login", json={"username": "alice@example.com", "password": PASSWORD}).json()
    assert step["status"] == "code_required" and step["phone"] == "+1 ******2671"
    assert "session_token" not in step
    denied = client.get("/api/auth/me", headers={"Authorization": f"Bearer {step['login_token']}"})
    assert denied.status_code == 401  # the pending login is not a session
    code = sandbox.code_for(PHONE)
    guess = "000000" if code != "000000" else "111111"
    wrong = client.post("/api/auth/login/verify", json={"login_token": step["login_token"], "otp": guess})
    assert wrong.status_code == 400 and wrong.json()["verified"] is False
    done = client.post("/api/auth/login/verify", json={"login_token": step["login_token"], "otp": code})
    assert done.status_code == 200 and done.json()["status"] == "signed_in"
    replay = client.post("/api/auth/login/verify", json={"login_token": step["login_token"], "otp": code})
    assert replay.status_code == 400


def test_json_login_answers_the_same_for_unknown_users(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=False)
    known = client.post("/api/auth/login", json={"username": "alice", "password": "wrong " * 4})
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong " * 4})
    assert known.status_code == unknown.status_code == 401
    sentence = "Incorrect username or password."
    expected = {"code": "invalid_credentials", "message": sentence, "error": sentence}
    assert known.json() == unknown.json() == expected


def test_ten_wrong_passwords_for_a_username_leave_its_email_like_an_unknown(client, accounts, sandbox):
    _user(accounts, sandbox, two_factor=False)
    for _ in range(10):  # the default per-name limit, 10 per 15 minutes
        failed = client.post("/api/auth/login", json={"username": "alice", "password": "wrong " * 4})
        assert failed.status_code == 401
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 429
    email = client.post("/api/auth/login", json={"username": "alice@example.com", "password": "wrong " * 4})
    unknown = client.post("/api/auth/login", json={"username": "bob@example.com", "password": "wrong " * 4})
    assert email.status_code == unknown.status_code == 401
    assert email.json() == unknown.json() and "retry-after" not in email.headers


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "alice"},
        {"username": 1, "password": 2},
        {"login_token": "x"},
        {"login_token": "x", "otp": "1", "backup_code": "2"},
    ],
)
def test_json_login_refuses_malformed_bodies(client, body):
    for path in ("/api/auth/login", "/api/auth/login/verify"):
        response = client.post(path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert "error" in response.json()


MALFORMED_LINKS = ["http://[::1", "https://[::1/account", "//[", "http://[x]/"]


@pytest.mark.parametrize("link", MALFORMED_LINKS)
def test_logout_with_a_malformed_next_is_400_and_changes_nothing(client, accounts, sandbox, link):
    user_id = _user(accounts, sandbox, two_factor=False)
    token = accounts.sessions.create_session(user_id, "192.0.2.1", "test")
    response = client.get(
        "/api/session/logout", params={"next": link}, headers={"Cookie": f"otp_session={token}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input" and "not a valid link" in response.json()["message"]
    assert "set-cookie" not in response.headers
    assert accounts.sessions.authenticate(token).id == user_id  # not ended: nothing half done


@pytest.mark.parametrize("link", MALFORMED_LINKS)
def test_complete_with_a_malformed_fail_is_400_and_keeps_the_ticket(client, accounts, sandbox, link):
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id)
    response = client.get("/api/session/complete", params={"ticket": ticket, "fail": link})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"
    assert "set-cookie" not in response.headers
    unused = client.get("/api/session/complete", params={"ticket": ticket})
    assert unused.status_code == 303 and "otp_session=" in unused.headers["set-cookie"]


@pytest.mark.parametrize("landing", MALFORMED_LINKS)
def test_a_ticket_with_a_malformed_landing_signs_in_to_the_home_page(client, accounts, sandbox, landing):
    """The landing comes from the page's origin, which the browser reports: it may be anything."""
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id, landing=landing)
    response = client.get("/api/session/complete", params={"ticket": ticket})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "otp_session=" in response.headers["set-cookie"]


@pytest.mark.parametrize("username", ["\ud800", "a\udfffb", "al\x00ice"])
def test_json_login_with_unusable_characters_is_400_and_not_counted(make_accounts, sandbox, username):
    accounts = make_accounts(RATE_LIMIT_LOGIN_PER_IP="2/hour")
    _user(accounts, sandbox, two_factor=False)
    port = free_port()
    app_server = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(3):
                body = json.dumps({"username": username, "password": PASSWORD}).encode()  # "\\ud800"
                hostile = http.post(
                    "/api/auth/login", content=body, headers={"content-type": "application/json"}
                )
                assert hostile.status_code == 400, hostile.text
                assert hostile.json()["code"] == "invalid_input" and hostile.json()["message"]
            real = http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
            assert real.status_code == 200, real.text
    finally:
        app_server.should_exit = True


def test_json_sign_up_email_with_a_surrogate_is_refused(accounts):
    with pytest.raises(InvalidInput, match="valid email"):
        accounts.signups.signup("alice", "a\ud800@example.org", PASSWORD, PHONE, "US", "sms", "192.0.2.1")


def test_json_login_with_a_backup_code_whose_session_cannot_be_stored_burns_nothing(
    client, accounts, sandbox, db_url
):
    user_id = _user(accounts, sandbox, two_factor=True)
    started = accounts.account_changes.start_backup_codes(user_id, PASSWORD, "sms", "192.0.2.1")
    codes = accounts.account_changes.regenerate_backup_codes(
        user_id, started.verification_id, sandbox.code_for(PHONE), "x"
    )
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()
    verify = {"login_token": login["login_token"], "backup_code": codes[0]}
    engine = engine_for(db_url)
    with engine.begin() as connection:  # a real fault: the sessions table is gone
        connection.execute(text('ALTER TABLE "otp_auth_session" RENAME TO "otp_auth_session_away"'))
    try:
        assert client.post("/api/auth/login/verify", json=verify).status_code == 503
    finally:
        with engine.begin() as connection:
            connection.execute(text('ALTER TABLE "otp_auth_session_away" RENAME TO "otp_auth_session"'))
    assert accounts.backup_codes.left(user_id) == 10

    response = client.post("/api/auth/login/verify", json=verify)  # the same login, the same code
    assert response.status_code == 200 and response.json()["status"] == "signed_in"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {response.json()['session_token']}"})
    assert me.json()["username"] == "alice" and accounts.backup_codes.left(user_id) == 9


def _landed(client: httpx.Client, accounts: Services, user_id: int, landing: str) -> str:
    ticket = _ticket(accounts, user_id, landing=landing)
    response = client.get("/api/session/complete", params={"ticket": ticket})
    assert response.status_code == 303 and "otp_session=" in response.headers["set-cookie"]
    return response.headers["location"]


def test_one_port_lands_only_on_its_own_origin(server, client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    port = int(server.rsplit(":", 1)[1])
    table = {
        f"{server}/account": f"{server}/account",
        "/account": "/account",
        f"http://127.0.0.1:{port + 1}/x": "/",  # same host, another port
        f"https://127.0.0.1:{port}/x": "/",  # another scheme
        f"http://localhost:{port}/x": "/",  # another name for the host is another origin
        f"http://user@127.0.0.1:{port}/x": "/",
        "/\\evil.example/x": "/",
    }
    assert {landing: _landed(client, accounts, user_id, landing) for landing in table} == table
    # X-Forwarded-Host from a client that is not a trusted proxy names no origin.
    ticket = _ticket(accounts, user_id, landing="http://www.example.com/account")
    forged = client.get(
        "/api/session/complete", params={"ticket": ticket}, headers={"X-Forwarded-Host": "www.example.com"}
    )
    assert forged.headers["location"] == "/"


SITE = "http://127.0.0.1:3502"


@pytest.fixture
def split_client(accounts: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The backend of the README's split deployment: the pages are on a static site (SITE), listed."""
    monkeypatch.delenv(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.name, raising=False)
    monkeypatch.setenv("REFLEX_CORS_ALLOWED_ORIGINS", f"{SITE},*")
    port = free_port()
    app_server = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=10, follow_redirects=False, headers=AS_BROWSER
    ) as http:
        yield http
    app_server.should_exit = True


def test_split_deployment_lands_on_the_static_site(split_client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    table = {
        f"{SITE}/account": f"{SITE}/account",
        "/account": f"{SITE}/account",
        "http://127.0.0.1:3503/account": f"{SITE}/",  # the listed "*" allows nothing more
        "https://evil.example/account": f"{SITE}/",
    }
    assert {landing: _landed(split_client, accounts, user_id, landing) for landing in table} == table
    failed = split_client.get("/api/session/complete", params={"ticket": "x" * 43})
    assert failed.headers["location"] == f"{SITE}/login"  # the default fail page, on the static site
    out = split_client.get("/api/session/logout", params={"next": "https://evil.example/"})
    assert out.headers["location"] == f"{SITE}/login"


def _signed_in_as_b(accounts: Services, user_id: int) -> str:
    """Browser B's own live session (its user signed in earlier)."""
    return accounts.sessions.create_session(user_id, "192.0.2.9", "Browser B")


@pytest.mark.parametrize(
    "cookie",
    [
        f"otp_browser={OTHER_BROWSER}",  # another browser
        "",  # a browser without Fetch Metadata and no browser cookie yet
        f"otp_browser={BROWSER[:-1]}",  # one character off
        'theme={"dark":true}',
    ],
)
def test_a_ticket_opened_in_another_browser_signs_nobody_in(server, accounts, sandbox, caplog, cookie):
    """Login CSRF: the attacker's own ticket link, opened by the victim's browser B, is refused."""
    caplog.set_level(logging.INFO, logger="plivo_otp_app")
    attacker = _user(accounts, sandbox, two_factor=False)
    victim = accounts.signups.signup("bob", None, PASSWORD, "+14155552672", "US", "sms", "192.0.2.2").user_id
    b_session = _signed_in_as_b(accounts, victim)
    ticket = _ticket(accounts, attacker)
    with httpx.Client(base_url=server, timeout=10, follow_redirects=False) as browser_b:
        response = browser_b.get(
            "/api/session/complete",
            params={"ticket": ticket, "fail": "/login"},
            headers={"Cookie": f"otp_session={b_session}; {cookie}".rstrip("; ")},
        )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "set-cookie" not in response.headers  # not signed in, its cookie not touched
    assert accounts.sessions.authenticate(b_session).id == victim  # its own session goes on
    events = [r.getMessage() for r in caplog.records]
    assert "ticket_other_browser" in events or "ticket_no_browser_cookie" in events
    with httpx.Client(base_url=server, timeout=10, follow_redirects=False, headers=AS_BROWSER) as browser_a:
        own = browser_a.get("/api/session/complete", params={"ticket": ticket})
    assert "otp_session=" in own.headers["set-cookie"]  # the browser that logged in still can


def test_a_ticket_bound_to_no_browser_is_never_redeemed_by_the_route(client, accounts, sandbox):
    user_id = _user(accounts, sandbox, two_factor=False)
    unbound = accounts.sessions.issue_ticket(user_id)
    response = client.get("/api/session/complete", params={"ticket": unbound})
    assert response.status_code == 303 and "set-cookie" not in response.headers


def test_under_https_only_the_host_only_browser_cookie_counts(server, accounts, sandbox):
    """A sibling subdomain can toss `otp_browser` for the parent domain, never `__Host-otp_browser`."""
    user_id = _user(accounts, sandbox, two_factor=False)
    ticket = _ticket(accounts, user_id)
    https = {"X-Forwarded-Proto": "https"}  # uvicorn believes it from loopback: an https request
    with httpx.Client(base_url=server, timeout=10, follow_redirects=False) as http:
        tossed = http.get(
            "/api/session/complete",
            params={"ticket": ticket},
            headers={**https, "Cookie": f"otp_browser={BROWSER}"},
        )
        assert "set-cookie" not in tossed.headers
        own = http.get(
            "/api/session/complete",
            params={"ticket": ticket},
            headers={**https, "Cookie": f"otp_browser=x; __Host-otp_browser={BROWSER}"},
        )
    assert "otp_session=" in own.headers["set-cookie"]
