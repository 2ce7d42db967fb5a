"""Phone and code entry's rules without a browser: the country search, the browser's region, the
region of a number typed with `+`/`00`, formatting as you type, and the handlers that use them
(on the real service, SDK and sandbox)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import phonenumbers
import pytest
from reflex.istate.data import RouterData

from plivo_otp_app.phone import (
    as_you_type,
    country_options,
    dialing_code,
    flag,
    international,
    region_from_languages,
    region_of_typed,
    search_countries,
    typed_digits,
)
from plivo_otp_app.services import code_digits
from plivo_otp_app.state import verify as verify_module
from plivo_otp_app.state.verify import VerifyState

NUMBER = "+14155552671"
EVERYWHERE: frozenset[str] = frozenset()


def _drain(handler: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in handler]

    return asyncio.run(collect())


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("spain", "ES"),
        ("Spa", "ES"),
        ("SPAIN", "ES"),
        ("+34", "ES"),
        ("34", "ES"),
        ("ES", "ES"),
        ("es", "ES"),
        ("+44", "GB"),  # the code's main country before Jersey, Guernsey, the Isle of Man
        ("+1", "US"),
        ("+7", "RU"),
        ("gb", "GB"),
        ("kingdom", "GB"),  # the start of a word of the name
        ("reunion", "RE"),  # accents ignored: Réunion
        ("cote", "CI"),  # Côte d'Ivoire
        ("  germany ", "DE"),
    ],
)
def test_the_search_finds_by_name_dialing_code_and_iso_code(query, first):
    assert search_countries(query)[0] == first


def test_a_dialing_code_lists_every_country_sharing_it():
    plus_one = search_countries("+1")
    assert {"US", "CA", "JM", "PR"} <= set(plus_one)
    assert all(phonenumbers.country_code_for_region(r) == 1 for r in plus_one)
    assert search_countries("+44")[:1] == ["GB"] and {"JE", "GG", "IM"} <= set(search_countries("+44"))


@pytest.mark.parametrize("query", ["", "   ", "zzzz", "+999", None, 44, ["ES"]])
def test_nothing_found_or_nothing_asked(query):
    assert search_countries(query) == []


def test_the_search_keeps_to_the_allowed_countries():
    assert search_countries("+1", frozenset({"CA", "GB"})) == ["CA"]
    assert search_countries("spain", frozenset({"CA", "GB"})) == []


def test_every_result_is_a_region_once():
    for query in ("a", "+2", "is", "united"):
        found = search_countries(query)
        assert len(found) == len(set(found)) and set(found) <= phonenumbers.SUPPORTED_REGIONS


@pytest.mark.parametrize(
    ("header", "region"),
    [
        ("en-GB,en;q=0.9", "GB"),
        ("es-ES", "ES"),
        ("fr;q=0.8, de-AT;q=0.9", "AT"),  # by weight, not by place
        ("en-US,en-GB;q=0.5", "US"),
        ("zh-Hant-TW", "TW"),  # a script subtag before the region
        ("es-419,es", "US"),  # a UN region is no country: the default
        ("fr", "US"),  # a language alone names no country
        ("", "US"),
        ("en-XX", "US"),
        ("en-GB;q=zz", "US"),  # a broken weight: skipped
        (None, "US"),
    ],
)
def test_the_browsers_region_or_the_default(header, region):
    assert region_from_languages(header, EVERYWHERE, "US") == region


def test_the_browsers_region_must_be_allowed():
    assert region_from_languages("en-GB,de-DE;q=0.5", frozenset({"DE", "US"}), "US") == "DE"
    assert region_from_languages("en-GB", frozenset({"DE", "US"}), "US") == "US"


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("+44", "GB"),
        ("+44 20 7946 0958", "GB"),
        ("0044 20", "GB"),
        ("+1", "US"),
        ("+1 416 555 0123", "CA"),  # a whole number: its own region, not the code's main one
        ("+34 6", "ES"),
        ("+４４", "GB"),  # full-width digits
        ("+", None),
        ("+8", None),  # no code yet
        ("(415) 555", None),  # a national number does not switch
        ("020 7946", None),
        ("", None),
        (None, None),
        ("+" + "4" * 60, None),
    ],
)
def test_the_region_of_a_number_typed_in_international_form(typed, region):
    assert region_of_typed(typed) == region


def test_a_typed_region_must_be_allowed():
    assert region_of_typed("+44 20", frozenset({"US"})) is None


@pytest.mark.parametrize(
    ("typed", "region", "shown"),
    [
        ("4155552671", "US", "(415) 555-2671"),
        ("415555", "US", "415-555"),
        ("(415) 5552671", "US", "(415) 555-2671"),
        ("02079460958", "GB", "020 7946 0958"),
        ("+442079460958", "US", "+44 20 7946 0958"),
        ("00442079460958", "US", "+44 20 7946 0958"),
        ("612345678", "ES", "612 34 56 78"),
        ("４１５５５５２６７１", "US", "(415) 555-2671"),
        ("415 555 2671 x12", "US", "415 555 2671 x12"),  # an extension: left as typed
        ("call me", "US", "call me"),
        ("", "US", ""),
    ],
)
def test_formatting_as_you_type(typed, region, shown):
    assert as_you_type(typed, region) == shown


def test_formatting_never_changes_the_number():
    for typed, region in (("4155552671", "US"), ("+442079460958", "US"), ("0612345678", "FR")):
        formatted = as_you_type(typed, region)
        assert phonenumbers.parse(formatted, region) == phonenumbers.parse(typed, region)


def test_typed_digits_and_display_helpers():
    assert typed_digits("(415) 555-26") == "41555526"
    assert typed_digits("+44 20") == typed_digits("0044 20") == "+4420"
    assert international("+442079460958") == "+44 20 7946 0958"
    assert flag("GB") == "🇬🇧" and flag("gb") == "🇬🇧" and flag("G") == "" and flag("12") == ""
    assert dialing_code("GB") == "+44" and dialing_code("XX") == ""


@pytest.mark.parametrize(
    ("typed", "digits"), [("117763", "117763"), ("117 763", "117763"), ("117-763", "117763")]
)
def test_a_code_as_an_sms_shows_it(typed, digits):
    assert code_digits(typed, 6) == digits


@pytest.mark.parametrize("typed", ["11776", "1177634", "117a63", "", None, "１１７７６３"])
def test_not_a_whole_code(typed):
    assert code_digits(typed, 6) is None


# The handlers.


@pytest.fixture
def state(service, monkeypatch) -> VerifyState:
    monkeypatch.setattr(verify_module, "get_verification_service", lambda: service)
    state = VerifyState()
    state.router = RouterData.from_router_data(
        {
            "ip": "198.51.100.7",
            "token": "tab-1",
            "headers": {"asgi-scope-client": "198.51.100.7", "accept-language": "en-GB,en;q=0.9"},
        }
    )
    return state


def test_a_page_load_picks_the_browsers_region(state):
    state.reset_flow()
    assert state.country == "GB" and state.country_shown == "🇬🇧 +44"


def test_the_search_chooses_its_best_match_and_says_so(state):
    state.search_country("+34")
    assert state.country == "ES"
    assert state.country_choices == [("ES", "Spain (+34)")]
    assert state.country_status == "1 country matches: Spain is chosen."
    state.search_country("zzzz")
    assert state.country == "ES" and len(state.country_choices) > 200
    assert state.country_status == "No country matches. The list shows every country."
    state.search_country("")
    assert state.country == "ES" and state.country_status == ""


@pytest.mark.parametrize("code", ["XX", "", None, 44, "gb "])
def test_picking_takes_only_a_known_country(state, code):
    state.country = "US"
    state.pick_country(code)
    assert state.country == ("GB" if code == "gb " else "US")


def test_typing_plus_44_switches_the_picker_and_formats(state):
    state.country = "US"
    state.phone_typed("+442079460958")
    assert state.country == "GB" and state.phone == "+44 20 7946 0958"


def test_a_delete_or_an_edit_in_the_middle_is_not_reformatted(state):
    state.country = "US"
    for typed, shown in (
        ("4155552671", "(415) 555-2671"),
        ("(415) 555-267", "(415) 555-267"),  # a delete
        ("415", "415"),  # deletes, down to the area code
        ("4155552671", "(415) 555-2671"),  # typing at the end again is formatted
        ("(415) 5595-2671", "(415) 5595-2671"),  # a digit put in the middle
        ("(415) 555-2671 ", "(415) 555-2671 "),  # nothing new at the end
        ("+34612345678", "+34 612 34 56 78"),  # another number in its place
    ):
        state.phone_typed(typed)
        assert state.phone == shown, typed


@pytest.mark.parametrize("text", [None, 5, ["+44"], "+" + "4" * 80])
def test_a_hostile_phone_value_changes_nothing(state, text):
    state.country, state.phone = "US", "415"
    state.phone_typed(text)
    assert state.country == "US" and state.phone == "415"


def test_a_whole_code_submits_itself_and_a_refused_one_is_not_sent_twice(state, sandbox):
    state.reset_flow()
    _drain(state.send_code({"phone": "(415) 555-2671", "country": "US", "channel": "sms"}))
    assert state.entered_phone == "+1 415-555-2671" and "+1 415-555-2671" in state.message
    code = sandbox.code_for(NUMBER)
    wrong = "000000" if code != "000000" else "111111"
    _drain(state.code_typed(wrong[:5]))  # not yet a whole code
    assert state.error == ""
    _drain(state.code_typed(f"{wrong[:3]} {wrong[3:]}"))
    assert state.error == "That code is not correct. 4 attempts left."
    _drain(state.verify_code({"otp": wrong}))  # "Verify" after the auto-submit
    _drain(state.code_typed(f"{wrong[:3]}-{wrong[3:]}"))
    assert state.error == "That code is not correct. 4 attempts left."  # no attempt spent
    _drain(state.code_typed(code))
    assert state.verified


def test_a_code_typed_with_remember_this_device_ticked(state, sandbox):
    state.reset_flow()
    _drain(state.send_code({"phone": "(415) 555-2671", "country": "US", "channel": "sms"}))
    state.set_remember_device(True)
    assert state.remember_device
    state.set_remember_device("yes")  # type: ignore[arg-type] - anything but True is False
    assert not state.remember_device


def test_the_code_field_before_any_code_does_nothing(state):
    state.reset_flow()
    assert _drain(state.code_typed("123456")) == [] and not state.loading


def test_edit_goes_back_to_the_phone_form_with_the_number_and_the_focus(state, sandbox):
    state.reset_flow()
    _drain(state.send_code({"phone": "07400 123456", "country": "GB", "channel": "sms"}))
    assert state.code_sent and state.entered_phone == "+44 7400 123456"
    event = state.change_number()
    assert not state.code_sent and state.phone == "07400 123456" and state.country == "GB"
    assert event is not None and "phone" in str(event)


def test_the_picker_lists_names_in_alphabetical_order_accents_ignored():
    names = [label for _, label in country_options()]
    assert names.index("Åland Islands (+358)") < names.index("Albania (+355)")  # not after Zimbabwe
    assert names.index("Côte d'Ivoire (+225)") < names.index("Croatia (+385)")
