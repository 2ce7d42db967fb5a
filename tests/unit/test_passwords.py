"""Password rules and hashing (PWD-01, PWD-02, ENUM-02): any Unicode round-trips, nothing is
truncated, NFC and NFD are one password, common and patterned passwords are refused with a clear
sentence, and an unknown user costs a full Argon2 verification."""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
from collections.abc import Callable
from importlib import resources

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from plivo_otp_app import passwords
from plivo_otp_app.errors import InvalidInput
from plivo_otp_app.messages import (
    PASSWORD_COMMON,
    PASSWORD_EMPTY,
    PASSWORD_HAS_EMAIL,
    PASSWORD_HAS_USERNAME,
    PASSWORD_PATTERN,
    PASSWORD_UNUSABLE,
    password_too_long,
    password_too_short,
)
from plivo_otp_app.passwords import (
    PASSWORD_MAX_LENGTH,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)

# Every Argon2 call takes ~50-100 ms: keep the example counts small.
ARGON2 = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD = "velvet canyon orbits a purple kettle"
HASH_PATTERN = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$")
BCRYPT_HASH = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(GOOD)


def refusal(password: object, **kwargs: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        check_password(password, **kwargs)  # type: ignore[arg-type]
    return caught.value.user_message()


def blocklist() -> list[str]:
    path = resources.files("plivo_otp_app").joinpath("data", "common-passwords.txt")
    return path.read_text("utf-8").splitlines()


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        GOOD,
        "all lower case words and nothing else",
        "tea 🍵 at noon under the olive tree",
        "🐙🦑🐳🐬🦈🐟🐠🐡🦀🦞🐚🪸🌊⚓🐋",  # 15 code points, 60 bytes
        "Пароль из нескольких слов",
        "パスワードは長い文章にするのが良いです",
        "  leading and trailing spaces count  ",
    ],
)
def test_good_passwords_are_accepted_unchanged(password):
    assert check_password(password) == password


def test_no_composition_rules():
    for password in ("onlylowercaseletters", "ONLYUPPERCASELETTERS", "98127346509182736450"):
        assert check_password(password) == password


def test_accepted_password_is_nfc():
    nfd = unicodedata.normalize("NFD", "crème brûlée for the café")
    assert check_password(nfd) == unicodedata.normalize("NFC", nfd)


@pytest.mark.parametrize("password", [None, 123, b"a long password in bytes", ["list"], ""])
def test_missing_password_is_refused(password):
    assert refusal(password) == PASSWORD_EMPTY


def test_short_password_is_refused_with_the_minimum():
    assert refusal("correct horse") == (
        "Use at least 15 characters. A few unrelated words make a strong password."
    )
    assert refusal("fourteen chars", min_length=15) == password_too_short(15)
    assert refusal("a sixteen letter", min_length=20) == password_too_short(20)
    assert "20 characters" in password_too_short(20)


def test_length_counts_code_points_after_nfc():
    # 16 code points as typed (NFD), 8 after NFC: too short.
    assert refusal("e\u0301" * 8, min_length=10) == password_too_short(10)
    # Bytes do not count: 15 emoji are 60 bytes and exactly long enough.
    assert check_password("🍎🍐🍊🍋🍌🍉🍇🍓🫐🍈🍒🍑🥭🍍🥥")


def test_length_limits_are_inclusive():
    words = "kettle orbit canyon velvet lantern "
    longest = (words * 4)[:PASSWORD_MAX_LENGTH]
    assert check_password(longest) == longest  # 128 characters, not truncated
    assert refusal(longest + "x") == password_too_long(PASSWORD_MAX_LENGTH)
    assert check_password("fifteen letters") == "fifteen letters"


def test_min_length_outside_the_policy_is_a_programming_error():
    with pytest.raises(ValueError):
        check_password(GOOD, min_length=6)
    with pytest.raises(ValueError):
        check_password(GOOD, min_length=PASSWORD_MAX_LENGTH + 1)


@pytest.mark.parametrize(
    "password",
    [
        "password1234567",
        "PasswordPassword",
        "correcthorsebatterystaple",
        "CorrectHorseBatteryStaple",
        "Correct Horse Battery Staple",
        "qwertyuiopasdfgh",
        "1q2w3e4r5t6y7u8i",
        "trustno1trustno1",
        "iloveyouiloveyou",
        "123456789012345",
        "aaaaaaaaaaaaaaa",
        "sunshine2024!!!!",
        "!!!Baseball1234567",
    ],
)
def test_common_passwords_are_refused(password):
    assert refusal(password) == PASSWORD_COMMON


@pytest.mark.parametrize("password", ["password", "Password1", "PASSW0RD1", "iloveyou", "letmein123"])
def test_common_passwords_are_refused_at_a_lower_minimum(password):
    assert refusal(password, min_length=8) == PASSWORD_COMMON


def test_every_long_blocklisted_entry_is_refused():
    long_entries = [entry for entry in blocklist() if len(entry) >= 15]
    assert len(long_entries) >= 30
    for entry in long_entries:
        assert refusal(entry) == PASSWORD_COMMON, entry
        assert refusal(entry.upper()) == PASSWORD_COMMON, entry


def test_blocklist_file_is_clean():
    entries = blocklist()
    assert len(entries) >= 300
    assert len(set(entries)) == len(entries)
    for entry in entries:
        assert entry == entry.strip().lower(), entry
        assert len(entry) >= 8, entry


@pytest.mark.parametrize(
    ("password", "min_length"),
    [
        ("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 15),
        ("😀" * 15, 15),
        (" " * 20, 15),
        ("\t \t \t \t \t \t \t \t", 15),
        ("b b b b b b b b b b", 15),
        ("5678901234567890", 15),
        ("3210987654321098", 15),
        ("ERTYUIOPQWERTYUIOPQ", 15),
        ("lkjhgfdsalkjhgfdsa", 15),
        ("mnbvcxzmnbvcxzmnbvcxz", 15),
        ("ghijklmnopqrstuvw", 15),
        ("ccccccccc", 8),
        ("23456789", 8),
    ],
)
def test_repeats_and_straight_runs_are_refused(password, min_length):
    assert refusal(password, min_length=min_length) == PASSWORD_PATTERN


def test_username_is_refused_inside_the_password():
    assert refusal("my name is alice_w and I like tea", username="alice_w") == PASSWORD_HAS_USERNAME
    assert refusal("my name is ALICE_W and I like tea", username="Alice_W") == PASSWORD_HAS_USERNAME
    assert refusal("the-longest-username-ever", username="the-longest-username-ever") == PASSWORD_HAS_USERNAME
    # Names under four characters are too likely to appear by chance.
    assert check_password("bob likes long walks on the beach", username="bob")


def test_email_local_part_is_refused_inside_the_password():
    email = "Jane.Doe@example.com"
    assert refusal("jane.doe rides her bike daily", email=email) == PASSWORD_HAS_EMAIL
    assert refusal("JANE.DOE rides her bike daily", email=email.lower()) == PASSWORD_HAS_EMAIL
    assert refusal("jane.doe rides her bike daily", email="jane.doe+shop@example.com") == PASSWORD_HAS_EMAIL
    assert refusal("jane.doe@example.com", email=email) == PASSWORD_HAS_EMAIL
    assert check_password("jo jo jo goes the merry song", email="jo@example.com")
    assert check_password("example dot com is a fine domain", email=email)


def test_lone_surrogate_is_refused():
    assert refusal("a long enough password \ud800") == PASSWORD_UNUSABLE


# --- hashing -------------------------------------------------------------------------------------


def test_hash_uses_argon2id_at_or_above_the_owasp_minimum(stored):
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    match = HASH_PATTERN.match(stored)
    assert match
    memory, time_cost, parallelism = (int(match.group(i)) for i in (1, 2, 3))
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1
    assert len(match.group(4)) == 22  # 16-byte salt, unpadded base64


def test_hashes_are_salted(stored):
    assert hash_password(GOOD) != stored


def test_right_password_verifies_and_wrong_does_not(stored):
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD.upper())


@ARGON2
@given(st.text(min_size=15, max_size=PASSWORD_MAX_LENGTH))
@example("tea 🍵 at noon under the olive tree")
@example("🐙🦑🐳🐬🦈🐟🐠🐡🦀🦞🐚🪸🌊⚓🐋")
def test_any_accepted_password_round_trips(text):
    try:
        password = check_password(text)
    except InvalidInput:
        assume(False)
        raise
    assert verify_password(hash_password(password), password)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.text(min_size=1, max_size=90),
    ends=st.lists(st.text(min_size=1, max_size=10), min_size=2, max_size=2, unique=True),
)
def test_passwords_differing_after_byte_72_do_not_match(prefix, ends):
    """bcrypt ignores everything after byte 72; Argon2 must not."""
    pad = max(0, 72 - len(prefix.encode("utf-8")))  # the ends start at byte index >= 72
    prefix += "x" * pad
    first, second = prefix + ends[0], prefix + ends[1]
    assume(unicodedata.normalize("NFC", first) != unicodedata.normalize("NFC", second))
    stored = hash_password(first)
    assert verify_password(stored, first)
    assert not verify_password(stored, second)


@pytest.mark.parametrize(
    "text",
    ["Crème brûlée à la façon de Noël", "비밀번호는 길고 안전해야 합니다", "Tiếng Việt có dấu rất đẹp"],
)
def test_nfc_and_nfd_forms_are_one_password(text):
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert nfc != nfd
    assert check_password(nfc) == check_password(nfd) == nfc
    for made_from in (nfc, nfd):
        stored = hash_password(check_password(made_from))
        for typed in (nfc, nfd):
            assert verify_password(stored, check_password(typed))
    # hash/verify normalise too, so a login path that skips check_password still matches.
    assert verify_password(hash_password(nfd), nfc)


@pytest.mark.parametrize(
    "bad_hash",
    ["", "garbage", BCRYPT_HASH, "é", "$argon2id$v=19$m=65536,t=3,p=4$garbage", "$argon2id$"],
)
def test_malformed_hash_is_a_mismatch_not_an_error(bad_hash):
    assert verify_password(bad_hash, GOOD) is False


def test_lone_surrogate_at_login_is_a_mismatch(stored):
    assert verify_password(stored, GOOD + "\ud800") is False
    assert verify_password(None, "\udfff") is False


def test_needs_rehash_only_for_other_parameters(stored):
    assert needs_rehash(stored) is False
    weak = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(GOOD)
    assert verify_password(weak, GOOD)  # old hashes still log in, then get rehashed
    assert needs_rehash(weak) is True


# --- unknown users (ENUM-02) ---------------------------------------------------------------------


class SpyHasher:
    """Delegates to a real hasher and records the hashes it verified against."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.verified: list[str] = []

    def hash(self, password: str | bytes) -> str:
        return self.real.hash(password)

    def verify(self, password_hash: str, password: str | bytes) -> bool:
        self.verified.append(password_hash)
        return self.real.verify(password_hash, password)


def test_unknown_user_runs_a_full_verification(monkeypatch):
    spy = SpyHasher(passwords._HASHER)
    monkeypatch.setattr(passwords, "_HASHER", spy)
    assert verify_password(None, GOOD) is False
    assert verify_password(None, GOOD) is False
    assert len(spy.verified) == 2
    assert spy.verified[0] == spy.verified[1]  # one dummy hash, made once
    assert spy.verified[0].startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_unknown_user_takes_as_long_as_a_wrong_password(stored):
    verify_password(None, "warm up the dummy hash")
    known, unknown = [], []
    for _ in range(5):  # interleaved so that machine load affects both alike
        known.append(_seconds(lambda: verify_password(stored, "a wrong password entirely")))
        unknown.append(_seconds(lambda: verify_password(None, "a wrong password entirely")))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 1 / 3 < ratio < 3, (known, unknown)
