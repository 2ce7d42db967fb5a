"""Usernames in any script, end to end: sign-up, login (service and JSON API), password limits.

A name and its look-alikes (case, fullwidth forms, composed or combining accents) are one
name in the database's unique index: the second sign-up is a taken name, any form logs in
to the one account, and all of them share its budget of password guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import RELAXED, free_port, run_at_once, serve
from reflex_base.environment import environment
from sqlalchemy import select

from plivo_otp_app import messages
from plivo_otp_app.api import build_api
from plivo_otp_app.db import session as db_session
from plivo_otp_app.errors import InvalidCredentials, InvalidInput, RateLimited
from plivo_otp_app.models import User
from plivo_otp_app.services import Services

PASSWORD = "correct horse battery staple quietly"
IP = "203.0.113.7"
FULLWIDTH_JOHN = "\uff2a\uff4f\uff48\uff4e"  # "John" in fullwidth letters


@pytest.fixture
def relaxed(make_accounts: Callable[..., Services]) -> Services:
    return make_accounts(**RELAXED)


def _signup(accounts: Services, sandbox, name: str, phone: str) -> int | None:
    """Sign `name` up with `phone` and enter the code; the new account's id (None: taken)."""
    result = accounts.signups.signup(name, None, PASSWORD, phone, "US", "sms", IP)
    accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(phone), IP
    )
    return result.user_id


def _stored(db_url: str) -> list[tuple[str, str]]:
    with db_session(db_url) as db:
        return [(u.username, u.display_username) for u in db.exec(select(User).order_by(User.id)).scalars()]


@pytest.mark.parametrize(
    ("first", "look_alike"),
    [
        (FULLWIDTH_JOHN, "john"),
        ("john", "JOHN"),
        ("José", "JOSE\u0301"),
        ("Иван", "иВАН"),
        ("Οδυσσέας", "ΟΔΥΣΣΈΑΣ"),
        ("آمنة", "\u0627\u0653منة"),
    ],
)
def test_a_look_alike_of_a_name_is_taken(relaxed, sandbox, db_url, first, look_alike):
    assert _signup(relaxed, sandbox, first, "+14155554601") is not None
    assert _signup(relaxed, sandbox, look_alike, "+14155554602") is None
    assert len(_stored(db_url)) == 1


def test_look_alikes_signing_up_at_once_get_one_account(relaxed, sandbox, db_url):
    names = ["john", "John", "JOHN", FULLWIDTH_JOHN]
    results = run_at_once(
        len(names),
        lambda i: relaxed.signups.signup(names[i], None, PASSWORD, f"+1415555461{i}", "US", "sms", IP),
    )
    assert sum(result.user_id is not None for result in results) == 1  # type: ignore[union-attr]
    assert [name for name, _ in _stored(db_url)] == ["john"]


def test_any_form_of_the_name_logs_in_and_the_account_shows_it_as_typed(relaxed, sandbox, db_url):
    user_id = _signup(relaxed, sandbox, FULLWIDTH_JOHN, "+14155554603")
    assert _stored(db_url) == [("john", "John")]
    for typed in ("john", "JOHN", " John ", FULLWIDTH_JOHN, "\uff4a\uff4f\uff48\uff4e"):
        assert relaxed.logins.login(typed, PASSWORD, IP, None).user_id == user_id
    with pytest.raises(InvalidCredentials):
        relaxed.logins.login("jöhn", PASSWORD, IP, None)
    assert relaxed.account_changes.view(user_id or 0).display_username == "John"


@pytest.mark.parametrize("name", ["محمد_علي", "Дмитрий", "山田太郎", "김민준", "Ἀχιλλεύς", "שרה.כהן"])
def test_names_in_any_script_sign_up_and_log_in(relaxed, sandbox, db_url, name):
    user_id = _signup(relaxed, sandbox, name, "+14155554604")
    assert user_id is not None
    assert relaxed.logins.login(name, PASSWORD, IP, None).user_id == user_id
    assert relaxed.logins.login(name.upper(), PASSWORD, IP, None).user_id == user_id
    assert relaxed.account_changes.view(user_id).display_username == name


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("john smith", messages.USERNAME_REFUSED["spaces"]),
        ("jo\u200dhn", messages.USERNAME_REFUSED["invisible"]),
        ("ﬁsher", messages.USERNAME_REFUSED["compatibility"]),
        ("محمدali", messages.USERNAME_REFUSED["direction"]),
        ("bob🙂", messages.USERNAME_REFUSED["symbols"]),
    ],
)
def test_a_refused_name_is_told_why_and_creates_nothing(relaxed, sandbox, db_url, name, said):
    with pytest.raises(InvalidInput) as refused:
        relaxed.signups.signup(name, None, PASSWORD, "+14155554605", "US", "sms", IP)
    assert refused.value.user_message() == said
    assert _stored(db_url) == [] and sandbox.store.messages("+14155554605") == []


def test_look_alikes_share_the_names_password_guesses(accounts, make_accounts, sandbox):
    """The default 10 attempts per name: ten wrong guesses under fullwidth forms use up "john"'s."""
    user_id = _signup(make_accounts(**RELAXED), sandbox, "john", "+14155554606")
    for typed in [FULLWIDTH_JOHN, "\uff2a\uff2f\uff28\uff2e"] * 5:
        with pytest.raises(InvalidCredentials):
            accounts.logins.login(typed, "wrong " * 4, IP, None)
    with pytest.raises(RateLimited):
        accounts.logins.login("john", PASSWORD, "198.51.100.9", None)
    assert user_id is not None


@pytest.fixture
def client(accounts: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.name, "true")
    port = free_port()
    server = serve(build_api(lambda: accounts.verifications, lambda: accounts), port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield http
    server.should_exit = True


def test_the_json_login_takes_any_form_of_the_name(client, accounts, sandbox):
    _signup(accounts, sandbox, "Οδυσσέας", "+14155554607")
    response = client.post("/api/auth/login", json={"username": "ΟΔΥΣΣΈΑΣ", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["status"] == "signed_in"
    token = response.json()["session_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["username"], me["display_username"]) == ("οδυσσέας", "Οδυσσέας")
    refused = client.post("/api/auth/login", json={"username": "bob🙂", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
