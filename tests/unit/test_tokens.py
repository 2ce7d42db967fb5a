"""Secrets (SES-01, LIFE-05, ENUM-04): tokens carry 256 random bits, comparisons are constant
time, backup codes carry 80 bits in RFC 4648 base32, and what a person types is read strictly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plivo_otp_app.tokens import (
    BACKUP_CODE_ALPHABET,
    hash_backup_code,
    hash_token,
    new_backup_codes,
    new_token,
    normalise_backup_code,
    tokens_equal,
)

CODE_FORMAT = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")
CODE = "ABCDEFGHJKLMNPQR"


# --- tokens --------------------------------------------------------------------------------------


def test_token_is_256_bits_url_safe():
    token = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_tokens_are_unique():
    assert len({new_token() for _ in range(1000)}) == 1000


def test_hash_token_is_sha256_hex():
    token = new_token()
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_token(token) == digest
    assert hash_token(new_token()) != digest


def test_hash_token_survives_a_lone_surrogate():
    assert re.fullmatch(r"[0-9a-f]{64}", hash_token("\ud800"))


def test_tokens_equal():
    token = new_token()
    assert tokens_equal(token, token)
    assert tokens_equal(token, "".join(token))  # equal value, different object
    assert not tokens_equal(token, new_token())
    assert not tokens_equal(token, token[:-1])
    assert not tokens_equal(token, token + "A")
    assert not tokens_equal("", token)
    assert tokens_equal("", "")
    assert tokens_equal("ключ-🔑", "ключ-🔑")
    assert not tokens_equal("\ud800", "\udc00")


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_tokens_equal_agrees_with_equality(a, b):
    assert tokens_equal(a, b) is (a == b)
    assert tokens_equal(a, a)


def test_tokens_equal_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert tokens_equal("abc", "abc")
    assert calls == [(bytes, bytes)]


# --- backup codes --------------------------------------------------------------------------------


def test_backup_codes_format():
    codes = new_backup_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert CODE_FORMAT.match(code), code
        assert len(base64.b32decode(code.replace("-", ""))) == 10  # 80 bits


@pytest.mark.parametrize("count", [1, 3, 50])
def test_backup_code_count(count):
    codes = new_backup_codes(count)
    assert len(codes) == len(set(codes)) == count


def test_backup_code_count_must_be_positive():
    with pytest.raises(ValueError):
        new_backup_codes(0)


def test_backup_codes_are_unique_and_use_the_whole_alphabet():
    codes = [code for _ in range(100) for code in new_backup_codes()]
    assert len(set(codes)) == 1000
    used = set("".join(codes).replace("-", ""))
    assert used == set(BACKUP_CODE_ALPHABET)
    assert not used & set("0189")


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKLM-NPQR",
        "abcd efgh-jklm npqr",
        "abcdefghjklmnpqr",
        "ABCD EFGH JKLM NPQR",
        "  abcd efgh-jklm npqr \n",
        "\tABCDEFGHJKLMNPQR\r\n",
        "AbCd-eFgH jKlM-nPqR",
        "abcd--efgh  jklm - npqr",
        "-ABCDEFGHJKLMNPQR-",
    ],
)
def test_normalise_accepts_what_people_type(typed):
    assert normalise_backup_code(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCD-EFGH-JKLM-NPQ",  # 15
        "ABCD-EFGH-JKLM-NPQRS",  # 17
        "0BCD-EFGH-JKLM-NPQR",
        "A1CD-EFGH-JKLM-NPQR",
        "ABCD-8FGH-JKLM-NPQR",
        "ABCD-EFGH-JKLM-NPQ9",
        "ABCD_EFGH_JKLM_NPQR",
        "ABCD.EFGH.JKLM.NPQR",
        "ABCDEFGHJKLMNPQR=",
        "ABCD\tEFGH-JKLM-NPQR",
        "ＡＢＣＤ-ＥＦＧＨ-ＪＫＬＭ-ＮＰＱＲ",  # full-width letters
        "ABCD－EFGH－JKLM－NPQR",  # full-width hyphen
        "ABCD\u00a0EFGH-JKLM-NPQR",  # no-break space
        "ABCD-EFGH-JKLM-NPQR\u2003",  # em space
        "ABCD-EFGH-JKLM-NPıR",  # dotless i, which upper() maps to I
        "ABCD-EFGH-JKLM-NPQſ",  # long s, which upper() maps to S
        CODE + " " * 60,  # far longer than anything typed
    ],
)
def test_normalise_refuses_anything_else(typed):
    assert normalise_backup_code(typed) is None


@pytest.mark.parametrize("value", [None, 1234567890123456, b"ABCDEFGHJKLMNPQR", ["ABCDEFGHJKLMNPQR"]])
def test_normalise_refuses_non_strings(value):
    assert normalise_backup_code(value) is None


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_normalise_undoes_any_formatting(data):
    code = new_backup_codes(1)[0]
    plain = code.replace("-", "")
    typed = ""
    for char in plain:
        typed += data.draw(st.sampled_from(["", " ", "-"]))
        typed += data.draw(st.sampled_from([char, char.lower()]))
    typed = data.draw(st.sampled_from(["", " ", "\n"])) + typed + data.draw(st.sampled_from(["", " ", "\n"]))
    assert normalise_backup_code(typed) == plain


def test_hash_backup_code_is_stable_and_distinct():
    digest = hash_backup_code(CODE)
    assert digest == hashlib.sha256(CODE.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_backup_code(CODE) == digest
    assert hash_backup_code("ABCDEFGHJKLMNPQS") != digest
    plains = [normalise_backup_code(code) for code in new_backup_codes(20)]
    assert len({hash_backup_code(plain) for plain in plains if plain}) == 20


def test_issued_and_typed_codes_hash_alike():
    for code in new_backup_codes():
        issued = normalise_backup_code(code)
        typed = normalise_backup_code(" " + code.lower().replace("-", " ") + " ")
        assert issued and typed
        assert hash_backup_code(issued) == hash_backup_code(typed)


@pytest.mark.parametrize("not_normalised", ["ABCD-EFGH-JKLM-NPQR", CODE.lower(), "", "0BCDEFGHJKLMNPQR"])
def test_hash_backup_code_takes_only_normalised_codes(not_normalised):
    with pytest.raises(ValueError):
        hash_backup_code(not_normalised)
