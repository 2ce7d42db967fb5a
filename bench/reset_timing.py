"""How long a password reset's answers take for a name with an account and for one without.

The JSON routes over HTTP (uvicorn, in this process) on a fresh SQLite database, with the real
plivo SDK talking to the sandbox over HTTP, as the integration tests run them. Starts and wrong
codes alternate between a known name (a verified phone) and an unknown one, `ROUNDS` of each;
prints one JSON object with the median and the quartiles in milliseconds. The sandbox answers
in a millisecond or two; `--provider-delay` adds a wait to each of its answers, as a distant
provider would take.

    python bench/reset_timing.py [--rounds 20] [--provider-delay 0.15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' sandbox and server

from conftest import (
    RELAXED,
    SANDBOX_AUTH_ID,
    SANDBOX_AUTH_TOKEN,
    SANDBOX_HANG_SECONDS,
    free_port,
    sandbox_provider,
    serve,
)
from starlette.applications import Starlette

from plivo_otp_app import migrations
from plivo_otp_app.api import build_api
from plivo_otp_app.config import load_settings
from plivo_otp_app.providers import Outcome
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.sandbox.api import build_routes
from plivo_otp_app.sandbox.store import SandboxStore
from plivo_otp_app.services import SessionService, VerificationService, compose

PASSWORD = "correct horse battery staple quietly"
PHONE = "+14155554100"


class _Distant:
    """The sandbox provider, each answer `delay` seconds late."""

    def __init__(self, provider: object, delay: float) -> None:
        self._provider, self._delay = provider, delay

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        time.sleep(self._delay)
        return self._provider.send(recipient, channel, app_uuid)  # type: ignore[attr-defined]

    def validate(self, session_id: str, code: str) -> Outcome:
        time.sleep(self._delay)
        return self._provider.validate(session_id, code)  # type: ignore[attr-defined]

    def status(self, session_id: str) -> str:
        return self._provider.status(session_id)  # type: ignore[attr-defined]

    def notify(self, source: str, recipient: str, text: str) -> None:
        self._provider.notify(source, recipient, text)  # type: ignore[attr-defined]


def _ms(samples: list[float]) -> dict[str, float]:
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return {"median": round(median * 1000, 1), "q1": round(q1 * 1000, 1), "q3": round(q3 * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--provider-delay", type=float, default=0.0)
    args = parser.parse_args()

    store = SandboxStore(expiry_seconds=300)
    sandbox_port = free_port()
    sandbox = Starlette(routes=build_routes(store, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, SANDBOX_HANG_SECONDS))
    serve(sandbox, sandbox_port)
    db_url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrations.upgrade(db_url)
    settings = load_settings({**RELAXED, "RATE_LIMIT_SEND_PER_NUMBER": "100000/hour"})
    provider = sandbox_provider(f"http://127.0.0.1:{sandbox_port}", settings.otp.code_length)
    verifications = VerificationService(
        settings, _Distant(provider, args.provider_delay), RateLimits(settings), db_url=db_url
    )
    sessions = SessionService(settings, db_url=db_url)
    accounts = compose(settings, verifications, sessions, db_url=db_url)
    signed_up = accounts.signups.signup("alice", None, PASSWORD, PHONE, "US", "sms", "192.0.2.1")
    assert signed_up.user_id is not None
    code = store.messages(PHONE)[0].code
    accounts.signups.finish_signup(signed_up.user_id, signed_up.started.verification_id, code, "192.0.2.1")

    port = free_port()
    serve(build_api(lambda: verifications, lambda: accounts), port)
    starts: dict[str, list[float]] = {"known": [], "unknown": []}
    checks: dict[str, list[float]] = {"known": [], "unknown": []}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for n in range(args.rounds):
            # A fresh name each round: the per-name limit and the wrong-code cap stay out of the way.
            for kind, name in (("known", "alice"), ("unknown", f"nobody{n}")):
                began = time.perf_counter()
                start = http.post("/api/auth/reset/start", json={"username": name})
                starts[kind].append(time.perf_counter() - began)
                assert start.status_code == 200, start.text
                token = start.json()["reset_token"]
                guess = "000000" if store.messages(PHONE)[0].code != "000000" else "111111"
                began = time.perf_counter()
                wrong = http.post("/api/auth/reset/verify", json={"reset_token": token, "otp": guess})
                checks[kind].append(time.perf_counter() - began)
                assert wrong.status_code == 400, wrong.text
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "provider_delay_ms": round(args.provider_delay * 1000),
                "start_ms": {kind: _ms(samples) for kind, samples in starts.items()},
                "wrong_code_ms": {kind: _ms(samples) for kind, samples in checks.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
