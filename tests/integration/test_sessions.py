"""`SessionService` end to end on SQLite, with logins through the real SDK and the sandbox.

One-time login tickets (single use, 60 s, junk refused, one winner under
concurrency: BND-03), sessions (new >= 128-bit token stored only as SHA-256,
the browser's earlier session ended: SES-01; idle and absolute timeouts,
logout, sign-out everywhere, the session list: SES-03, SES-08) and remembered
devices (skip the SMS step for their own user only, expire, revocable).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import RELAXED, run_at_once
from sqlalchemy import func, select, text

from plivo_otp_app.db import session as db_session
from plivo_otp_app.models import AuthSession
from plivo_otp_app.services import Redeemed, Services, SessionService

PASSWORD = "correct horse battery staple quietly"
IP = "203.0.113.7"
PHONE_A = "+14155552671"
PHONE_B = "+14155552672"
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
THREADS = 20


@pytest.fixture
def accounts(make_accounts: Callable[..., Services]) -> Services:
    """An account service with relaxed limits."""
    return make_accounts(**RELAXED)


@pytest.fixture
def sessions(accounts: Services) -> SessionService:
    """The session service of `accounts`, on the test clock and database."""
    return accounts.sessions


# Helpers


def new_user(accounts: Services, name: str = "alice", e164: str = PHONE_A) -> int:
    """An account (phone not yet verified, no 2FA)."""
    user_id = accounts.signups.signup(name, None, PASSWORD, e164, "US", "sms", IP).user_id
    assert user_id is not None
    return user_id


def user_with_2fa(accounts: Services, sandbox, name: str = "alice", e164: str = PHONE_A) -> int:
    """An account with a verified phone and two-factor login on."""
    result = accounts.signups.signup(name, None, PASSWORD, e164, "US", "sms", IP)
    assert result.user_id is not None
    assert accounts.signups.finish_signup(
        result.user_id, result.started.verification_id, sandbox.code_for(e164), IP
    )
    started = accounts.account_changes.start_enable_2fa(result.user_id, "sms", IP)
    accounts.account_changes.finish_enable_2fa(
        result.user_id, started.verification_id, sandbox.code_for(e164), IP
    )
    return result.user_id


def sign_in(sessions: SessionService, user_id: int, user_agent: str = CHROME_LINUX, **options) -> Redeemed:
    """Issue and redeem a ticket, as the browser does after a whole login."""
    redeemed = sessions.redeem_ticket(sessions.issue_ticket(user_id, **options), IP, user_agent)
    assert redeemed is not None
    return redeemed


def authenticated_id(sessions: SessionService, token: object) -> int | None:
    user = sessions.authenticate(token)
    return user.id if user is not None else None


def session_rows(db_url: str) -> int:
    with db_session(db_url) as db:
        return db.exec(select(func.count()).select_from(AuthSession)).one()[0]


def table_text(db_url: str, table: str) -> str:
    """Every value of every row of `table`, as one string."""
    with db_session(db_url) as db:
        rows = db.exec(text(f"SELECT * FROM {table}")).all()
    return " ".join(str(value) for row in rows for value in row)


# Tickets


def test_a_ticket_gives_one_session_once(accounts, sessions, db_url):
    user_id = new_user(accounts)
    ticket = sessions.issue_ticket(user_id, landing="/account")

    redeemed = sessions.redeem_ticket(ticket, IP, CHROME_LINUX)

    assert redeemed is not None
    assert (redeemed.user_id, redeemed.device_token, redeemed.landing) == (user_id, None, "/account")
    assert authenticated_id(sessions, redeemed.session_token) == user_id
    assert sessions.redeem_ticket(ticket, IP, CHROME_LINUX) is None
    assert session_rows(db_url) == 1


def test_a_ticket_expires_after_sixty_seconds(accounts, sessions, clock, db_url):
    user_id = new_user(accounts)
    in_time, late = sessions.issue_ticket(user_id), sessions.issue_ticket(user_id)

    clock.advance(59)
    assert sessions.redeem_ticket(in_time, IP, CHROME_LINUX) is not None
    clock.advance(2)
    assert sessions.redeem_ticket(late, IP, CHROME_LINUX) is None
    assert session_rows(db_url) == 1


@pytest.mark.parametrize(
    "ticket",
    [None, 42, b"bytes-are-not-a-ticket-at-all", "", "short", "x" * 43, "x" * 101, "x" * 100_000],
    ids=["none", "int", "bytes", "empty", "short", "unknown", "overlong", "huge"],
)
def test_garbage_and_overlong_tickets_are_refused(accounts, sessions, db_url, ticket):
    user_id = new_user(accounts)
    real = sessions.issue_ticket(user_id)

    assert sessions.redeem_ticket(ticket, IP, CHROME_LINUX) is None
    assert sessions.redeem_ticket(real + "x" * 60, IP, CHROME_LINUX) is None  # a real one, padded
    assert session_rows(db_url) == 0
    assert sessions.redeem_ticket(real, IP, CHROME_LINUX) is not None  # and it was not used up


def test_twenty_threads_redeeming_one_ticket_get_one_session(accounts, sessions, db_url):
    user_id = new_user(accounts)
    ticket = sessions.issue_ticket(user_id, remember_device=True)

    outcomes = run_at_once(THREADS, lambda _: sessions.redeem_ticket(ticket, IP, CHROME_LINUX))

    assert not [o for o in outcomes if isinstance(o, BaseException)]
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1 and winners[0].user_id == user_id
    assert session_rows(db_url) == 1
    assert len(sessions.list_devices(user_id)) == 1


# Sessions


def test_signing_in_again_ends_the_browsers_previous_session(accounts, sessions):
    user_id = new_user(accounts)
    before = sign_in(sessions, user_id).session_token

    after = sessions.redeem_ticket(sessions.issue_ticket(user_id), IP, CHROME_LINUX, previous_token=before)

    assert after is not None and after.session_token != before
    assert sessions.authenticate(before) is None
    assert authenticated_id(sessions, after.session_token) == user_id


def test_tokens_have_at_least_128_bits_and_only_their_sha256_is_stored(accounts, sessions, db_url):
    user_id = new_user(accounts)
    ticket = sessions.issue_ticket(user_id, remember_device=True)
    redeemed = sessions.redeem_ticket(ticket, IP, CHROME_LINUX)
    assert redeemed is not None and redeemed.device_token is not None
    second = sign_in(sessions, user_id).session_token

    tokens = {
        "otp_auth_session": redeemed.session_token,
        "otp_login_ticket": ticket,
        "otp_trusted_device": redeemed.device_token,
    }
    for table, token in tokens.items():
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
        stored = table_text(db_url, table)
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert len({redeemed.session_token, second, ticket, redeemed.device_token}) == 4


def test_an_idle_session_ends_after_thirty_minutes(accounts, sessions, clock):
    user_id = new_user(accounts)
    token = sign_in(sessions, user_id).session_token

    clock.advance(29 * 60 + 50)
    assert authenticated_id(sessions, token) == user_id  # and that use resets the idle timer
    clock.advance(29 * 60 + 50)
    assert authenticated_id(sessions, token) == user_id
    clock.advance(30 * 60 + 1)
    assert sessions.authenticate(token) is None
    assert sessions.authenticate(token) is None  # asking again does not revive it


def test_a_session_ends_after_twelve_hours_despite_activity(accounts, sessions, clock):
    user_id = new_user(accounts)
    token = sign_in(sessions, user_id).session_token
    step = timedelta(minutes=25)

    elapsed = timedelta()
    while elapsed + step < timedelta(hours=12):
        clock.advance(step.total_seconds())
        elapsed += step
        assert authenticated_id(sessions, token) == user_id, f"refused after {elapsed}"
    clock.advance((timedelta(hours=12) - elapsed).total_seconds() + 1)
    assert sessions.authenticate(token) is None


def test_logging_out_ends_the_session_on_the_server(accounts, sessions):
    user_id = new_user(accounts)
    token = sign_in(sessions, user_id).session_token
    other = sign_in(sessions, user_id, FIREFOX_WINDOWS).session_token

    sessions.end(token)

    assert sessions.authenticate(token) is None
    assert authenticated_id(sessions, other) == user_id
    assert [s.user_agent for s in sessions.list_sessions(user_id, other)] == [FIREFOX_WINDOWS]


def test_signing_out_everywhere_else_keeps_only_the_current_session(accounts, sessions):
    alice, bob = new_user(accounts, "alice", PHONE_A), new_user(accounts, "bob", PHONE_B)
    current = sign_in(sessions, alice).session_token
    elsewhere = [sign_in(sessions, alice, FIREFOX_WINDOWS).session_token for _ in range(2)]
    bobs = sign_in(sessions, bob).session_token

    assert sessions.end_all(alice, keep_token=current) == 2

    assert authenticated_id(sessions, current) == alice
    assert all(sessions.authenticate(token) is None for token in elsewhere)
    assert authenticated_id(sessions, bobs) == bob
    assert sessions.end_all(alice) == 1
    assert sessions.authenticate(current) is None


def test_the_session_list_marks_the_current_session(accounts, sessions, clock):
    alice, bob = new_user(accounts, "alice", PHONE_A), new_user(accounts, "bob", PHONE_B)
    older = sign_in(sessions, alice, FIREFOX_WINDOWS).session_token
    clock.advance(5)
    newer = sessions.redeem_ticket(sessions.issue_ticket(alice), "198.51.100.9", CHROME_LINUX)
    assert newer is not None
    sign_in(sessions, bob)

    listed = sessions.list_sessions(alice, older)

    assert [(s.user_agent, s.ip, s.current) for s in listed] == [
        (CHROME_LINUX, "198.51.100.9", False),
        (FIREFOX_WINDOWS, IP, True),
    ]
    assert [s.current for s in sessions.list_sessions(alice, newer.session_token)] == [True, False]
    assert not any(s.current for s in sessions.list_sessions(alice, None))


# Remembered devices


def test_a_remembered_device_skips_the_code_for_its_own_user_only(accounts, sessions, sandbox):
    alice = user_with_2fa(accounts, sandbox, "alice", PHONE_A)
    user_with_2fa(accounts, sandbox, "bob", PHONE_B)
    device = sign_in(sessions, alice, remember_device=True).device_token
    assert device is not None
    sent = len(sandbox.store.messages())

    remembered = accounts.logins.login("alice", PASSWORD, IP, device)
    assert (remembered.user_id, remembered.pending_token) == (alice, None)
    assert len(sandbox.store.messages()) == sent  # no SMS

    bob = accounts.logins.login("bob", PASSWORD, IP, device)  # the same browser, another account
    assert bob.user_id is None and bob.pending_token
    assert len(sandbox.store.messages(PHONE_B)) == 3
    assert accounts.logins.login("alice", PASSWORD, IP, None).user_id is None  # without the device token
    assert accounts.logins.login("alice", PASSWORD, IP, device + "x").user_id is None


def test_a_ticket_without_remember_device_remembers_nothing(accounts, sessions, sandbox):
    alice = user_with_2fa(accounts, sandbox)

    assert sign_in(sessions, alice).device_token is None
    assert sessions.list_devices(alice) == []


def test_a_remembered_device_expires_after_remember_device_days(accounts, sessions, sandbox, clock):
    alice = user_with_2fa(accounts, sandbox)
    device = sign_in(sessions, alice, remember_device=True).device_token
    (listed,) = sessions.list_devices(alice)
    assert listed.expires_at - listed.created_at == timedelta(days=30)

    clock.advance(timedelta(days=30).total_seconds() - 60)
    assert accounts.logins.login("alice", PASSWORD, IP, device).user_id == alice
    clock.advance(120)
    assert accounts.logins.login("alice", PASSWORD, IP, device).user_id is None
    assert sessions.list_devices(alice) == []


def test_remembered_devices_are_listed_and_can_be_revoked(accounts, sessions, sandbox):
    alice = user_with_2fa(accounts, sandbox, "alice", PHONE_A)
    bob = user_with_2fa(accounts, sandbox, "bob", PHONE_B)
    chrome = sign_in(sessions, alice, CHROME_LINUX, remember_device=True).device_token
    firefox = sign_in(sessions, alice, FIREFOX_WINDOWS, remember_device=True).device_token
    bobs = sign_in(sessions, bob, remember_device=True).device_token

    devices = {d.label: d for d in sessions.list_devices(alice)}
    assert set(devices) == {"Chrome on Linux", "Firefox on Windows"}

    assert sessions.revoke_device(bob, devices["Chrome on Linux"].id) is False  # not Bob's to revoke
    assert sessions.device_trusted(alice, chrome)
    assert sessions.revoke_device(alice, devices["Chrome on Linux"].id) is True
    assert not sessions.device_trusted(alice, chrome)
    assert accounts.logins.login("alice", PASSWORD, IP, chrome).user_id is None
    assert [d.label for d in sessions.list_devices(alice)] == ["Firefox on Windows"]

    assert sessions.revoke_devices(alice) == 1
    assert not sessions.device_trusted(alice, firefox)
    assert sessions.list_devices(alice) == []
    assert sessions.device_trusted(bob, bobs)  # another user's devices stay
