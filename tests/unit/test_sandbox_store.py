"""`SandboxStore` keeps Plivo's answers for ended sessions a while, then forgets them:
a long-running sandbox holds a bounded number of sessions and messages."""

from __future__ import annotations

import pytest

from plivo_otp_app.sandbox.store import MAX_SESSIONS, OUTBOX_SIZE, RETAIN_SECONDS, SandboxError, SandboxStore

EXPIRY = 300


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def number(i: int) -> str:
    return f"1415{i:07d}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> SandboxStore:
    return SandboxStore(expiry_seconds=EXPIRY, clock=clock)


def test_sessions_stay_bounded_as_they_expire(store, clock):
    for i in range(5000):
        store.create(number(i))
        clock.now += 5  # one new session every 5 s: 12 expire into the past per minute
    kept = len(store.sessions())
    assert kept <= (EXPIRY + RETAIN_SECONDS) / 5 + 1
    assert len(store.messages()) == OUTBOX_SIZE


def test_an_expired_session_answers_expired_until_it_is_forgotten(store, clock):
    session = store.create(number(0))
    clock.now += EXPIRY + RETAIN_SECONDS - 1
    store.create(number(1))
    assert store.get(session.session_uuid).status == "expired"
    with pytest.raises(SandboxError, match="expired"):
        store.validate(session.session_uuid, session.code)
    clock.now += 2
    store.create(number(2))
    with pytest.raises(SandboxError, match="not found"):
        store.get(session.session_uuid)


def test_a_forgotten_session_leaves_the_recipient_free_for_a_new_one(store, clock):
    first = store.create(number(0))
    clock.now += EXPIRY + RETAIN_SECONDS
    again = store.create(number(0))
    assert again.session_uuid != first.session_uuid
    assert [s.session_uuid for s in store.sessions()] == [again.session_uuid]


def test_live_sessions_are_capped_oldest_first(store):
    for i in range(MAX_SESSIONS + 10):
        store.create(number(i))
    sessions = store.sessions()
    assert len(sessions) == MAX_SESSIONS
    assert {s.recipient for s in sessions} == {number(i) for i in range(10, MAX_SESSIONS + 10)}
    # The recipient whose session was dropped gets a new one, not a stale re-delivery.
    assert store.create(number(0)).session_uuid not in {s.session_uuid for s in sessions}


def test_an_sms_ends_with_the_webotp_line_of_the_apps_host(clock):
    store = SandboxStore(expiry_seconds=EXPIRY, clock=clock, webotp_host="auth.example.com")
    store.create(number(1), brand_name="Acme")
    (sms,) = store.messages("+" + number(1))
    first, *_, last = sms.text.splitlines()
    assert first == f"Your Acme verification code is {sms.code}. Do not share it with anyone."
    assert last == f"@auth.example.com #{sms.code}"  # WebOTP: the last line, alone
    store.create(number(1), channel="voice")
    call = store.messages("+" + number(1))[0]
    assert call.channel == "voice" and "@" not in call.text  # nothing to read out on a call


def test_the_webotp_host_is_the_host_of_the_apps_pages(monkeypatch):
    from reflex.config import get_config

    from plivo_otp_app.sandbox import frontend_host

    monkeypatch.setattr(get_config(), "deploy_url", "https://auth.example.com:8443/app")
    assert frontend_host() == "auth.example.com"
    monkeypatch.setattr(get_config(), "deploy_url", None)
    assert frontend_host() == "localhost"
