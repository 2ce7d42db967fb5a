"""Phone-number rules (INP-01, SND-02, SND-05, SND-06): parsing never crashes, E.164 is stable,
formatting cannot dodge per-number limits, and only personal numbers may get a code."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from plivo_otp_app.errors import InvalidInput, InvalidPhone
from plivo_otp_app.phone import (
    MAX_INPUT_LENGTH,
    Phone,
    _country_names,
    check_channel,
    check_country,
    country_name,
    mask,
    normalise,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TABLE_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "AU")
CHANNELS = ("sms", "voice")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# One valid personal number per region, with the region whose "00" means "international".
BASES = (
    ("+14155552671", "US"),
    ("+447400123456", "GB"),
    ("+491701234567", "DE"),
    ("+33612345678", "FR"),
    ("+918123456789", "IN"),
)

_EXAMPLES = [
    (region, phonenumbers.format_number(example, PhoneNumberFormat.E164))
    for region in REGIONS
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]

_odd_chars = st.sampled_from(
    [
        *("\u200f", "\u200e", "\u202e", "\u2066", "\x00", "\t", "\n", "\r", "\x7f", "\ufeff", "\u00a0"),
        *"０１２３４５６７８９＋（）٠١٢٣٤٥٦٧٨٩+-.()/ #*x",
    ]
)
_texts = st.one_of(
    st.text(),
    st.text(st.one_of(st.characters(codec=None), _odd_chars), max_size=60),
    st.text(st.sampled_from("0123456789０１２３４５６７８９ +-().\u200f"), max_size=45),
    st.builds(lambda chunk, times: chunk * times, st.text(min_size=1, max_size=5), st.integers(2, 4000)),
)
_objects = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _accepted_number(data: st.DataObject) -> tuple[str, Phone, str]:
    """Draw an accepted number (example numbers with random last four digits)."""
    region, example = data.draw(st.sampled_from(_EXAMPLES))
    tail = data.draw(st.text("0123456789", min_size=4, max_size=4))
    channel = data.draw(st.sampled_from(CHANNELS))
    try:
        phone = normalise(example[:-4] + tail, region, channel)
    except InvalidPhone:
        assume(False)
    return region, phone, channel


# (a) No input crashes.


@FAST
@given(raw=st.one_of(_texts, _objects), country=st.sampled_from(REGIONS), channel=st.sampled_from(CHANNELS))
def test_normalise_accepts_or_refuses_but_never_crashes(raw, country, channel):
    try:
        phone = normalise(raw, country, channel)
    except (InvalidPhone, InvalidInput) as exc:
        assert exc.user_message()
        return
    assert isinstance(phone, Phone)
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", phone.e164)
    assert phone.region in phonenumbers.SUPPORTED_REGIONS


@pytest.mark.parametrize("raw", [None, 14155552671, ["+14155552671"], b"+14155552671", "", "   ", "\u200f"])
def test_normalise_refuses_non_text_and_blank(raw):
    with pytest.raises(InvalidPhone):
        normalise(raw, "US")


def test_normalise_caps_length_before_parsing():
    number = "+1 (415) 555-2671"
    assert normalise(number.ljust(MAX_INPUT_LENGTH), "US").e164 == "+14155552671"
    with pytest.raises(InvalidPhone, match="too long"):
        normalise(number.ljust(MAX_INPUT_LENGTH + 1), "US")
    with pytest.raises(InvalidPhone, match="too long"):
        normalise("1" * 10_000, "US")


def test_normalise_refuses_extensions():
    with pytest.raises(InvalidPhone, match="extension"):
        normalise("+1 415 555 2671 ext. 12", "US")


# (b) Normalisation is stable.


@FAST
@given(data=st.data(), other_country=st.sampled_from(REGIONS))
def test_normalise_of_e164_is_the_same_phone(data, other_country):
    _region, phone, channel = _accepted_number(data)
    assert normalise(phone.e164, phone.region, channel) == phone
    assert normalise(phone.e164, other_country, channel) == phone


# (c) Formatting tricks give one E.164, hence one rate-limit key and one prefix.


def _regroup(data: st.DataObject, digits: str) -> str:
    """`digits` split at random points, joined by random separators, maybe with parens."""
    cuts = sorted(data.draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    chunks = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    separators = data.draw(
        st.lists(
            st.sampled_from(["", " ", "-", ".", " - ", "  "]), min_size=len(chunks), max_size=len(chunks)
        )
    )
    if len(chunks) > 1 and data.draw(st.booleans()):
        chunks[0] = f"({chunks[0]})"
    return "".join(chunk + sep for chunk, sep in zip(chunks, separators, strict=True)).strip()


def _full_width_some(data: st.DataObject, text: str) -> str:
    flags = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.translate(FULL_WIDTH) if f else c for c, f in zip(text, flags, strict=True))


@FAST
@given(data=st.data(), base=st.sampled_from(BASES), channel=st.sampled_from(CHANNELS))
def test_formatting_variants_share_one_e164_and_prefix(data, base, channel):
    e164, region = base
    number = phonenumbers.parse(e164)
    cc = str(number.country_code)
    national = re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    nsn = phonenumbers.national_significant_number(number)
    form = data.draw(st.sampled_from(["plus", "plus-spaced", "00", "national"]))
    if form == "plus":
        text, country = "+" + _regroup(data, cc + nsn), data.draw(st.sampled_from(REGIONS))
    elif form == "plus-spaced":
        text, country = f"+{cc} " + _regroup(data, nsn), data.draw(st.sampled_from(REGIONS))
    elif form == "00":
        # "00" is the international prefix of these regions (and the US falls back to it).
        text, country = "00" + _regroup(data, cc + nsn), data.draw(st.sampled_from(TABLE_REGIONS[:5]))
    else:
        text, country = _regroup(data, national), region
    text = _full_width_some(data, text)
    pad = data.draw(st.sampled_from(["", " ", "\t"]))
    variant = pad + text + pad
    assume(len(variant) <= MAX_INPUT_LENGTH)

    phone = normalise(variant, country, channel)

    assert phone.e164 == e164, variant
    assert phone.prefix == e164[:-4]
    assert phone.region == region


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("(415) 555-2671", "US"),
        ("415.555.2671", "US"),
        ("+1 415-555-2671", "GB"),
        ("001 415 555 2671", "DE"),
        ("1-415-555-2671", "US"),
        ("＋１ (４１５) ５５５-２６７１", "FR"),
        ("  4155552671  ", "US"),
    ],
)
def test_issue_examples_of_one_us_number(raw, country):
    assert normalise(raw, country) == Phone("+14155552671", "US")


def test_gb_landline_is_voice_only():
    assert normalise("+44 20 7946 0958", "US", "voice") == Phone("+442079460958", "GB")
    with pytest.raises(InvalidPhone, match="landline"):
        normalise("+44 20 7946 0958", "US", "sms")


def test_00_prefix_with_us_selected_is_international():
    assert normalise("0049 30 12345678", "US", "voice") == Phone("+493012345678", "DE")
    with pytest.raises(InvalidPhone, match="landline"):
        normalise("0049 30 12345678", "US", "sms")


def test_00_prefix_in_full_width_digits_is_international():
    assert normalise("００４９ １７０ １２３４５６７", "US").e164 == "+491701234567"
    assert normalise("0０1 415 555 2671", "US").e164 == "+14155552671"


def test_german_mobile_is_accepted_for_both_channels():
    for channel in CHANNELS:
        assert normalise("+49 170 1234567", "US", channel) == Phone("+491701234567", "DE")
    assert normalise("0170 1234567", "DE").e164 == "+491701234567"


# (d) Number types per region.

REFUSED_TYPES = (
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
)


def _example(region: str, kind: int) -> str:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        pytest.skip(f"{region} has no example {PhoneNumberType.to_string(kind)} number")
    return phonenumbers.format_number(example, PhoneNumberFormat.E164)


@pytest.mark.parametrize("region", TABLE_REGIONS)
def test_mobile_is_accepted_for_sms_and_voice(region):
    e164 = _example(region, PhoneNumberType.MOBILE)
    for channel in CHANNELS:
        assert normalise(e164, region, channel) == Phone(e164, region)


@pytest.mark.parametrize("region", TABLE_REGIONS)
def test_fixed_line_is_voice_only(region):
    e164 = _example(region, PhoneNumberType.FIXED_LINE)
    assert normalise(e164, region, "voice") == Phone(e164, region)
    if phonenumbers.number_type(phonenumbers.parse(e164)) == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        # US and IN number plans cannot tell landlines from mobiles; such numbers may get texts.
        assert normalise(e164, region, "sms") == Phone(e164, region)
        return
    with pytest.raises(InvalidPhone, match="landline"):
        normalise(e164, region, "sms")


REFUSED_EXAMPLES = [
    pytest.param(region, kind, id=f"{region}-{PhoneNumberType.to_string(kind)}")
    for region in TABLE_REGIONS
    for kind in REFUSED_TYPES
    if phonenumbers.example_number_for_type(region, kind) is not None
]


def test_every_refused_type_has_examples():
    assert {kind for _, kind in (p.values for p in REFUSED_EXAMPLES)} == set(REFUSED_TYPES)


@pytest.mark.parametrize(("region", "kind"), REFUSED_EXAMPLES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_revenue_and_non_personal_types_are_refused(region, kind, channel):
    e164 = _example(region, kind)
    with pytest.raises(InvalidPhone, match="Use a mobile number"):
        normalise(e164, region, channel)


# (e) Country allow-list.


@pytest.mark.parametrize(
    ("raw", "allowed", "name"),
    [
        ("+49 170 1234567", {"US"}, "Germany"),
        ("+44 7400 123456", {"US", "DE"}, "United Kingdom"),
        ("+1 604 555 0123", {"US"}, "Canada"),
        ("+1 415 555 2671", {"CA", "GB"}, "United States"),
    ],
)
def test_allowed_countries_refuse_other_regions_by_name(raw, allowed, name):
    assert phonenumbers.is_valid_number(phonenumbers.parse(raw))
    with pytest.raises(InvalidPhone, match=name):
        normalise(raw, "US", "voice", allowed)


def test_allowed_countries_accept_listed_regions():
    assert normalise("+49 170 1234567", "US", "sms", {"DE", "US"}).region == "DE"
    assert normalise("(415) 555-2671", "US", "sms", ["US"]).region == "US"


@FAST
@given(data=st.data())
def test_allowed_countries_refuse_every_other_region(data):
    _region, phone, channel = _accepted_number(data)
    allowed = {"GB"} if phone.region != "GB" else {"US"}
    with pytest.raises(InvalidPhone) as refused:
        normalise(phone.e164, "US", channel, allowed)
    assert country_name(phone.region) in refused.value.user_message()


# (f) Masking.


def test_mask_example():
    assert mask("+14155552671") == "+1******2671"
    assert normalise("(415) 555-2671", "US").masked == "+1******2671"


@FAST
@given(data=st.data())
def test_mask_reveals_only_country_code_and_last_four(data):
    _region, phone, _channel = _accepted_number(data)
    number = phonenumbers.parse(phone.e164)
    cc = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    masked = mask(phone.e164)
    assert masked == f"+{cc}" + "*" * (len(national) - 4) + national[-4:]
    assert len(re.sub(r"\D", "", masked)) == len(cc) + 4


@FAST
@given(text=st.text(max_size=30))
def test_mask_of_anything_shows_at_most_four_digits_after_the_code(text):
    masked = mask(text)
    digits = re.sub(r"\D", "", masked)
    try:
        cc = str(phonenumbers.parse(text).country_code)
    except phonenumbers.NumberParseException:
        cc = ""
    assert len(digits) <= len(cc) + 4


# (g) Channel and country.


@pytest.mark.parametrize("channel", CHANNELS)
def test_check_channel_accepts_supported(channel):
    assert check_channel(channel) == channel


@pytest.mark.parametrize("channel", ["", "email", "whatsapp", "sms ", None, 1, ["sms"], ("sms",), b"sms"])
def test_check_channel_refuses_others(channel):
    with pytest.raises(InvalidInput):
        check_channel(channel)


@pytest.mark.parametrize(("country", "code"), [("US", "US"), ("us", "US"), (" gb ", "GB"), ("De", "DE")])
def test_check_country_normalises_case(country, code):
    assert check_country(country) == code


@pytest.mark.parametrize("country", ["XX", "", "USA", "001", "UN", None, 1, ["US"], b"US"])
def test_check_country_refuses_unknown_and_non_text(country):
    with pytest.raises(InvalidInput):
        check_country(country)


def test_check_country_applies_allow_list():
    assert check_country("gb", {"GB", "US"}) == "GB"
    with pytest.raises(InvalidInput):
        check_country("DE", {"GB", "US"})


@FAST
@given(country=st.one_of(st.text(max_size=6), _objects))
def test_check_country_returns_a_known_region_or_refuses(country):
    try:
        code = check_country(country)
    except InvalidInput:
        return
    assert code in phonenumbers.SUPPORTED_REGIONS
    assert code == country.strip().upper()


def test_saved_country_names_match_the_installed_phonenumbers():
    """The app reads region names from a saved file, not from the 100 MiB geocoder; after a
    phonenumbers upgrade this fails until `python scripts/country_names.py` is run again."""
    from phonenumbers import geocoder

    for region in REGIONS:
        example = phonenumbers.example_number(region)
        expected = (geocoder.country_name_for_number(example, "en") if example else "") or region
        saved = _country_names().get(region, region)  # CLDR's names fill the geocoder's gaps later
        assert saved == expected, f"{region}: run python scripts/country_names.py"


def test_the_app_does_not_load_the_geocoder():
    """Importing the whole app leaves the geocoder's prefix data out of the process."""
    import subprocess
    import sys

    probe = "import sys, plivo_otp_app.plivo_otp_app; print('phonenumbers.geocoder' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
