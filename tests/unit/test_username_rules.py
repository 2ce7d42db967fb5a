"""Usernames in any script: one canonical form per name (PRECIS, RFC 8265), refusals in words."""

from __future__ import annotations

import pytest

from plivo_otp_app import messages
from plivo_otp_app.errors import InvalidInput
from plivo_otp_app.services.users import login_key
from plivo_otp_app.usernames import Username, canonical, check_username

#: Names that must be one name: each is a look-alike of the first.
SAME = [
    ("john", "JOHN", "John", "Ｊｏｈｎ", "ＪＯＨＮ"),  # case and fullwidth
    ("иван", "Иван", "ИВАН"),  # Cyrillic
    ("οδυσσέας", "Οδυσσέας", "ΟΔΥΣΣΈΑΣ"),  # Greek, final sigma kept final
    ("josé", "José", "Jose\u0301", "JOSE\u0301"),  # composed and combining acute: NFC
    ("テスト", "ﾃｽﾄ"),  # halfwidth katakana
    ("آمنة", "\u0627\u0653منة"),  # Arabic alef with madda, composed or not: NFC
]


@pytest.mark.parametrize("forms", SAME, ids=lambda forms: forms[0])
def test_look_alikes_have_one_canonical_form(forms):
    assert {check_username(form).canonical for form in forms} == {forms[0]}
    assert {login_key(form) for form in forms} == {forms[0]}


@pytest.mark.parametrize(
    ("typed", "display"),
    [
        ("Ｊｏｈｎ", "John"),
        ("Οδυσσέας", "Οδυσσέας"),
        ("Jose\u0301", "José"),
        ("  Иван_Петров ", "Иван_Петров"),
        ("محمد_علي", "محمد_علي"),
        ("山田太郎", "山田太郎"),
        ("김민준", "김민준"),
        ("שלום.1", "שלום.1"),
        ("अर्जुन", "अर्जुन"),
    ],
)
def test_the_display_form_keeps_the_case_as_typed(typed, display):
    name = check_username(typed)
    assert name == Username(canonical(display), display)


def test_names_that_only_look_alike_stay_apart():
    """PRECIS does not fold scripts together: Latin, Cyrillic and Greek letters are different names."""
    latin, cyrillic, greek = "apex", "арех", "αρεχ"
    assert len({check_username(name).canonical for name in (latin, cyrillic, greek)}) == 3
    assert check_username("straße").canonical != check_username("strasse").canonical
    assert check_username("οδυσσεας").canonical != check_username("οδυσσεασ").canonical  # final sigma


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("john smith", messages.USERNAME_REFUSED["spaces"]),
        ("山田\u3000太郎", messages.USERNAME_REFUSED["spaces"]),  # an ideographic space
        ("john\u00a0smith", messages.USERNAME_REFUSED["spaces"]),  # a no-break space
        ("bob😀", messages.USERNAME_REFUSED["symbols"]),
        ("i♥ny", messages.USERNAME_REFUSED["symbols"]),
        ("ﬁsh", messages.USERNAME_REFUSED["compatibility"]),  # the ligature is not "fi"
        ("①②③", messages.USERNAME_REFUSED["compatibility"]),
        ("\ufee3\ufea4\ufee4\ufeaa", messages.USERNAME_REFUSED["compatibility"]),  # Arabic presentation forms
        ("x²y", messages.USERNAME_REFUSED["compatibility"]),
        ("1محمد", messages.USERNAME_REFUSED["direction"]),
        ("محمدjohn", messages.USERNAME_REFUSED["direction"]),
        ("jo\u200dhn", messages.USERNAME_REFUSED["invisible"]),
        ("jo\u00adhn", messages.USERNAME_REFUSED["invisible"]),  # a soft hyphen
        ("jo\x00hn", messages.USERNAME_REFUSED["invisible"]),
        ("محمد،علي", messages.OTHER_USERNAME_REFUSED),  # Arabic comma: punctuation
        ("ab\u0378c", messages.OTHER_USERNAME_REFUSED),  # unassigned
        ("ab\ud800", messages.OTHER_USERNAME_REFUSED),  # a lone surrogate
        ("ab", messages.USERNAME_RULES),
        ("x" * 33, messages.USERNAME_RULES),
        ("_john", messages.USERNAME_RULES),
        ("\u0301john", messages.USERNAME_RULES),  # a combining mark first
        ("john@example", messages.USERNAME_RULES),  # never looks like an email
        ("john!", messages.USERNAME_RULES),
        ("", messages.USERNAME_RULES),
        ("   ", messages.USERNAME_RULES),
        (None, messages.USERNAME_RULES),
        (["john"], messages.USERNAME_RULES),
    ],
)
def test_a_refused_name_is_told_why(typed, said):
    with pytest.raises(InvalidInput) as refused:
        check_username(typed)
    assert refused.value.user_message() == said


def test_lengths_count_characters_of_any_script():
    assert check_username("абв").canonical == "абв"
    assert check_username("山田太").canonical == "山田太"
    assert check_username("ж" * 32).canonical == "ж" * 32
    with pytest.raises(InvalidInput):
        check_username("山田")


def test_old_names_are_their_own_canonical_form():
    """Every name the old rules allowed ([a-z0-9][a-z0-9._-]{2,31}) is unchanged: nothing to migrate."""
    for name in ("alice", "bob_2", "a.b-c", "007", "x" * 32):
        assert check_username(name) == Username(name, name)


def test_a_login_key_is_an_email_folded_or_a_username_canonical():
    assert login_key("Alice@Example.com") == "alice@example.com"
    assert login_key(" Ｊｏｈｎ ") == "john"
    assert login_key("bob😀") == "bob😀"  # refused by PRECIS: no account has it
    assert login_key("ÉVE") == "éve"
