"""The proof-of-work challenge on its own, on a real (migrated) SQLite database: issued, solved
by ALTCHA's own solver as the browser's web component does, redeemed once."""

from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import altcha
import pytest

from plivo_otp_app.challenge import Challenges, build_challenge, challenge_names, register_challenge
from plivo_otp_app.components.challenge import ALTCHA_PACKAGE
from plivo_otp_app.config import ChallengeSettings, ConfigError, Settings, load_settings
from plivo_otp_app.security_headers import ALTCHA_STYLE_HASH, policy_for

NOW = datetime.now(UTC)


def settings(**changes: object) -> Settings:
    return dataclasses.replace(Settings(), challenge=dataclasses.replace(ChallengeSettings(), **changes))


def solve(issued: dict[str, Any]) -> str:
    """The answer the `altcha` widget sends: base64 of the challenge and its solution."""
    challenge = altcha.Challenge.from_dict(issued["challenge"])
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def tampered(answer: str, change: Any) -> str:
    payload = json.loads(base64.b64decode(answer))
    change(payload)
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_the_defaults_are_the_built_in_proof_of_work():
    defaults = Settings().challenge
    assert defaults == load_settings({}).challenge
    assert (defaults.provider, defaults.cost, defaults.max_number, defaults.ttl_seconds) == (
        "pow",
        1000,
        2000,
        300,
    )
    assert "pow" in challenge_names()


def test_a_solved_challenge_is_taken_once(db_url: str):
    challenges = Challenges(Settings(), db_url)
    issued = challenges.issue(NOW)
    assert issued["provider"] == "pow"
    assert issued["challenge"]["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    answer = solve(issued)
    assert challenges.redeem(answer, NOW)
    assert not challenges.redeem(answer, NOW)


def test_another_worker_shares_the_key_and_the_spent_answers(db_url: str):
    issuing, redeeming = Challenges(Settings(), db_url), Challenges(Settings(), db_url)
    answer = solve(issuing.issue(NOW))
    assert redeeming.redeem(answer, NOW)
    assert not issuing.redeem(answer, NOW)


def test_an_expired_challenge_is_refused(db_url: str):
    challenges = Challenges(settings(ttl_seconds=60), db_url)
    answer = solve(challenges.issue(NOW))
    assert not challenges.redeem(answer, NOW + timedelta(seconds=61))
    assert challenges.redeem(answer, NOW + timedelta(seconds=59))


def test_another_installations_challenge_is_refused(db_url: str):
    ours = Challenges(settings(hmac_key="ours-" * 8), db_url)
    theirs = Challenges(settings(hmac_key="theirs-" * 8), db_url)
    assert not ours.redeem(solve(theirs.issue(NOW)), NOW)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["solution"].update(derivedKey="00" * 32),
        lambda p: p["solution"].update(derivedKey="not hex"),
        lambda p: p["challenge"]["parameters"].update(cost=1),
        lambda p: p["challenge"]["parameters"].update(
            expiresAt=p["challenge"]["parameters"]["expiresAt"] + 3600
        ),
        lambda p: p["challenge"]["parameters"].update(expiresAt=10**20),
        lambda p: p["challenge"]["parameters"].update(expiresAt="never"),
        lambda p: p["challenge"]["parameters"].update(algorithm="SHA-256"),
        lambda p: p["challenge"].update(signature="00" * 32),
        lambda p: p["challenge"].pop("signature"),
        lambda p: p.pop("solution"),
    ],
)
def test_a_wrong_or_tampered_answer_is_refused(db_url: str, change: Any):
    challenges = Challenges(Settings(), db_url)
    assert not challenges.redeem(tampered(solve(challenges.issue(NOW)), change), NOW)


@pytest.mark.parametrize(
    "answer",
    ["", "%%%", "e30=", base64.b64encode(b"[1, 2]").decode(), "A" * 10_000, None, 12, ["x"], {"a": 1}],
)
def test_garbage_is_refused_without_an_error(db_url: str, answer: object):
    assert not Challenges(Settings(), db_url).redeem(answer, NOW)


def test_a_registered_provider_replaces_the_proof_of_work(db_url: str):
    class Always:
        name = "always"

        def issue(self, key: bytes, expires_at: datetime) -> dict[str, Any]:
            return {"sitekey": "public"}

        def check(self, key: bytes, answer: str, now: datetime) -> tuple[str, datetime] | None:
            return (answer, now + timedelta(minutes=1)) if answer.startswith("token-") else None

    register_challenge("always", lambda _settings: Always())
    challenges = Challenges(settings(provider="always"), db_url)
    assert challenges.issue(NOW) == {"provider": "always", "challenge": {"sitekey": "public"}}
    assert challenges.redeem("token-1", NOW)
    assert not challenges.redeem("token-1", NOW)
    assert not challenges.redeem("guess", NOW)
    with pytest.raises(LookupError, match="nothing"):
        build_challenge(settings(provider="nothing"))
    with pytest.raises(ValueError, match="lower-case"):
        register_challenge("Bad Name", lambda _settings: Always())


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CHALLENGE_COST", "0"), ("CHALLENGE_MAX_NUMBER", "0"), ("CHALLENGE_TTL_SECONDS", "5")],
)
def test_bad_settings_name_their_variable(variable: str, value: str):
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


ROOT = Path(__file__).resolve().parents[2]


def test_the_lockfile_pins_the_widget_whose_stylesheet_the_policy_allows():
    lock = json.loads((ROOT / "reflex.lock" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/altcha"]["version"] == ALTCHA_PACKAGE.split("@")[1] == "3.2.2"


def test_the_page_policy_allows_the_widgets_own_stylesheet_and_blob_workers_and_nothing_inline():
    bundle = ROOT / ".web" / "node_modules" / "altcha" / "dist" / "main" / "altcha.js"
    if not bundle.exists():
        pytest.skip("the frontend is not built (the browser tests build it)")
    literal = re.search(r"\nconst css = ('(?:[^'\\\n]|\\.)*');\n", bundle.read_text())
    assert literal is not None, "the widget's stylesheet is no longer where this test reads it"
    digest = base64.b64encode(hashlib.sha256(ast.literal_eval(literal.group(1)).encode()).digest()).decode()
    assert f"'sha256-{digest}'" == ALTCHA_STYLE_HASH
    policy = policy_for([], [])
    assert f"style-src 'self' {ALTCHA_STYLE_HASH};" in policy
    assert "worker-src 'self' blob:;" in policy
    assert "unsafe" not in policy and "script-src 'self';" in policy
