"""One situation, one sentence, whichever page or state meets it: on the real services and sandbox.

An outage reads the same on `/` and on `/account`. Each outage is real: the SQLite
file is deleted under the running services, the rate-limit store is a Redis nobody
listens on, the settings name a store no limiter can be built from, the sandbox's
number answers as an SMS service that is down. `/` sends a code; `/account` loads and
asks to change the phone to a number (a code goes there): each page's error line must
carry the one sentence for that outage.

A session that ended reads the same on `/account` whether the account page's state or
the code step's state notices it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import free_port
from reflex.istate.data import RouterData
from reflex.state import State
from sqlalchemy import make_url
from wiring import use_services

from plivo_otp_app import messages, services
from plivo_otp_app.config import get_settings
from plivo_otp_app.services import Services
from plivo_otp_app.state import account as account_module
from plivo_otp_app.state import auth as auth_module
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.account import AccountState
from plivo_otp_app.state.verify import VerifyState

PASSWORD = "correct horse battery staple quietly"
OWN_NUMBER = "+14155552671"
#: The sandbox's number whose provider session cannot be reached (`sandbox/faults.py`).
PROVIDER_DOWN = "+1 202 555 0103"


def _drain(handler: AsyncIterator[Any]) -> None:
    async def collect() -> None:
        async for _ in handler:
            pass

    asyncio.run(collect())


def _signed_in(accounts: Services, sandbox: Any) -> str:
    """A user with a verified phone and no 2FA; the token of their session."""
    result = accounts.signups.signup("alice", None, PASSWORD, OWN_NUMBER, "US", "sms", "192.0.2.1")
    assert result.user_id is not None
    code = sandbox.code_for(OWN_NUMBER)
    assert accounts.signups.finish_signup(result.user_id, result.started.verification_id, code, "192.0.2.1")
    return accounts.sessions.create_session(result.user_id, "192.0.2.1", "test")


def _use(monkeypatch: pytest.MonkeyPatch, accounts: Services) -> None:
    """Both pages' states on `accounts` (and its verification and session services)."""
    use_services(monkeypatch, accounts, verify_module, account_module, auth_module)


def _database_gone(make_accounts, db_url, sandbox, monkeypatch) -> str:
    accounts = make_accounts()
    token = _signed_in(accounts, sandbox)
    path = make_url(db_url).database
    if not db_url.startswith("sqlite") or not path:
        pytest.skip("deletes the SQLite file under the services")
    for name in (path, f"{path}-wal", f"{path}-shm"):
        Path(name).unlink(missing_ok=True)
    _use(monkeypatch, accounts)
    return token


def _limit_store_down(make_accounts, db_url, sandbox, monkeypatch) -> str:
    token = _signed_in(make_accounts(), sandbox)
    _use(monkeypatch, make_accounts(RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0"))
    return token


def _services_unbuildable(make_accounts, db_url, sandbox, monkeypatch) -> str:
    token = _signed_in(make_accounts(), sandbox)
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", "no-such-store://localhost")
    return token  # the states call the process's own factories, which cannot build a limiter


def _sms_service_down(make_accounts, db_url, sandbox, monkeypatch) -> str:
    accounts = make_accounts()
    token = _signed_in(accounts, sandbox)
    _use(monkeypatch, accounts)
    return token


OUTAGES: dict[str, tuple[Callable[..., str], str]] = {
    "database gone": (_database_gone, messages.OUTAGE),
    "rate-limit store down": (_limit_store_down, messages.OUTAGE),
    "services cannot be built": (_services_unbuildable, messages.OUTAGE),
    "SMS service down": (_sms_service_down, messages.PROVIDER_UNAVAILABLE),
}


@pytest.fixture
def fresh_factories() -> Iterator[None]:
    """The process's settings and service factories, built again after the test."""
    factories = (get_settings, services.get_verification_service, services.get_services)
    factories += (services.get_session_service,)
    for factory in factories:
        factory.cache_clear()  # type: ignore[attr-defined]
    yield
    for factory in factories:
        factory.cache_clear()  # type: ignore[attr-defined]


def _tab(token: str) -> State:
    root = State(_reflex_internal_init=True)
    headers = {"cookie": f"otp_browser=a-browser; otp_session={token}"}
    router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1", "headers": headers})
    for state in (VerifyState, AccountState):
        root.get_substate(state.get_full_name().split(".")).router = router
    return root


def _home_page_says(root: State) -> str:
    verify = root.get_substate(VerifyState.get_full_name().split("."))
    _drain(verify.send_code({"phone": PROVIDER_DOWN, "country": "US", "channel": "sms"}))
    assert not verify.loading and not verify.code_sent
    return verify.error


def _account_page_says(root: State) -> list[str]:
    """What the page's error line says on load (when the outage shows there) and on a phone change."""
    account = root.get_substate(AccountState.get_full_name().split("."))
    _drain(account.load())
    said = [account.error] if account.error else []
    form = {"password": PASSWORD, "phone": PROVIDER_DOWN, "country": "US", "channel": "sms"}
    _drain(account.change_phone(form))
    assert not account.loading
    return [*said, account.error]


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_an_outage_reads_the_same_on_the_home_page_and_the_account_page(
    outage, make_accounts, db_url, sandbox, monkeypatch, fresh_factories
):
    cause, sentence = OUTAGES[outage]
    token = cause(make_accounts, db_url, sandbox, monkeypatch)
    root = _tab(token)

    home = _home_page_says(root)
    account = _account_page_says(root)

    assert home == sentence
    assert account and set(account) == {sentence}, account


def test_a_session_that_ended_reads_the_same_in_the_code_step_and_on_the_account_page(
    accounts, sandbox, monkeypatch
):
    token = _signed_in(accounts, sandbox)
    _use(monkeypatch, accounts)
    root = _tab(token)
    account = root.get_substate(AccountState.get_full_name().split("."))
    verify = root.get_substate(VerifyState.get_full_name().split("."))
    _drain(account.load())
    _drain(account.enable_2fa())
    assert verify.code_sent and verify.flow == "enable-2fa"
    accounts.sessions.end(token)  # signed out meanwhile, in another tab

    _drain(verify.verify_code({"otp": sandbox.code_for(OWN_NUMBER)}))
    _drain(account.sign_out_others())

    assert verify.notice == account.error == messages.SESSION_ENDED
