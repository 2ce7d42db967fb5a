"""The country picker's names in the reader's language: CLDR's (Babel) beside the English ones."""

from __future__ import annotations

import pytest

from plivo_otp_app.phone import country_name, country_options, search_countries
from plivo_otp_app.translations import use_language


def test_names_follow_the_language_and_the_english_stay_as_they_were():
    assert country_name("DE", "en") == "Germany"
    assert country_name("DE", "es") == "Alemania"
    assert country_name("DE", "ar") == "ألمانيا"


def test_regions_the_english_data_lacks_get_cldr_names_not_their_codes():
    assert country_name("AC", "en") == "Ascension Island"
    assert country_name("XK", "en") == "Kosovo"


def test_options_sort_by_the_languages_own_names():
    spanish = [code for code, _ in country_options(frozenset({"DE", "GB", "ES"}), "es")]
    assert spanish == ["DE", "ES", "GB"]  # Alemania, España, Reino Unido
    assert [label for _, label in country_options(frozenset({"ES"}), "es")] == ["España (+34)"]


def test_a_dialing_code_reads_left_to_right_inside_an_arabic_name():
    [(_, label)] = country_options(frozenset({"GB"}), "ar")
    assert label == "المملكة المتحدة (\u2066+44\u2069)"


@pytest.mark.parametrize("typed", ["alem", "germ", "DE", "+49"])
def test_a_spanish_search_finds_a_country_by_its_spanish_or_english_name(typed):
    with use_language("es"):
        assert search_countries(typed)[0] == "DE"
