"""Phone-number rules: parse what people type, normalise to E.164, refuse what cannot get a code.

Everything that decides whether a number may receive a code lives here, so the
same rules apply to the UI, the JSON API and every rate-limit key.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import phonenumbers
from phonenumbers import AsYouTypeFormatter, PhoneNumberFormat, PhoneNumberType

from . import messages
from .errors import InvalidInput, InvalidPhone
from .translations import DEFAULT, current_language, direction, territory_names

#: Longest input accepted before any parsing (formatting characters included).
MAX_INPUT_LENGTH = 40
CHANNELS = ("sms", "voice")

_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_VOICE_TYPES = _SMS_TYPES | {PhoneNumberType.FIXED_LINE}
#: The kind of each number type that cannot get a code (`messages.KIND_NOT_SERVED` words it).
_TYPE_KINDS = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
}


@dataclass(frozen=True)
class Phone:
    """A number that passed every rule."""

    e164: str
    region: str

    @functools.cached_property
    def masked(self) -> str:
        """The number with all but the country code and last four digits hidden (parsed once:
        every log line of a send names it)."""
        return mask(self.e164)

    @property
    def prefix(self) -> str:
        """The number without its last four digits: the block SMS pumpers rent."""
        return self.e164[:-4]


def check_channel(channel: object) -> str:
    """Return `channel` if it is a supported delivery channel.

    Raises:
        InvalidInput: It is not "sms" or "voice".
    """
    if channel not in CHANNELS:
        raise InvalidInput(messages.CHANNEL_UNKNOWN)
    return str(channel)


def check_country(country: object, allowed: Iterable[str] = ()) -> str:
    """Return the upper-case region code if it is known (and allowed).

    Raises:
        InvalidInput: Not a region `phonenumbers` knows, or not in `allowed`.
    """
    code = country.strip().upper() if isinstance(country, str) else ""
    allowed = frozenset(allowed)
    if code not in phonenumbers.SUPPORTED_REGIONS or (allowed and code not in allowed):
        raise InvalidInput(messages.COUNTRY_UNKNOWN)
    return code


def normalise(
    raw: object,
    country: str,
    channel: str = "sms",
    allowed_countries: Iterable[str] = (),
) -> Phone:
    """Parse `raw` as typed by a person and apply every number rule.

    Args:
        raw: The text typed, in national or international form (`+`, `00`).
        country: The region used for national-form numbers.
        channel: "sms" or "voice"; landlines are accepted for voice only.
        allowed_countries: When not empty, the only regions codes may go to.

    Returns:
        The number in E.164 with its region.

    Raises:
        InvalidPhone: With a sentence for the user.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhone(messages.PHONE_EMPTY)
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhone(messages.PHONE_TOO_LONG)
    number = _parse(raw.strip(), country)
    if number.extension:
        raise InvalidPhone(messages.PHONE_EXTENSION)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(messages.PHONE_INVALID)
    region = phonenumbers.region_code_for_number(number) or ""
    allowed = frozenset(allowed_countries)
    if allowed and region not in allowed:
        raise InvalidPhone(messages.country_not_served(country_name(region)))
    _check_type(phonenumbers.number_type(number), channel)
    return Phone(phonenumbers.format_number(number, PhoneNumberFormat.E164), region)


def mask(e164: str) -> str:
    """`+14155552671` -> `+1******2671`; safe for logs and screens."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "+" + "*" * max(0, len(e164) - 5) + e164[-4:] if len(e164) > 4 else "****"
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code}" + "*" * max(0, len(national) - 4) + national[-4:]


def country_name(region: str, language: str | None = None) -> str:
    """A region's name in `language` (default: the current one; Babel's for other languages
    than English), else its English name, else the code itself."""
    english = _country_names().get(region, region)
    if english == region:  # the geocoder has no name for a few (AC, TA, XK, ...): CLDR's
        english = territory_names(DEFAULT).get(region, region)
    language = language or current_language()
    if language == DEFAULT:
        return english
    return territory_names(language).get(region, english)


@functools.cache
def _country_names() -> dict[str, str]:
    """The geocoder's English region names, saved by `scripts/country_names.py`: importing
    `phonenumbers.geocoder` itself would load ~100 MiB of prefix data into every process."""
    text = resources.files("plivo_otp_app").joinpath("data", "country-names.json").read_text("utf-8")
    return json.loads(text)


def country_options(
    allowed: frozenset[str] = frozenset(), language: str | None = None
) -> list[tuple[str, str]]:
    """(code, "Name (+cc)") pairs for the country selector in `language` (default: the
    current one), sorted by name."""
    return _country_options(allowed, language or current_language())


@functools.cache
def _country_options(allowed: frozenset[str], language: str) -> list[tuple[str, str]]:
    regions = allowed or phonenumbers.SUPPORTED_REGIONS
    # The dialing code reads left to right inside a right-to-left name (an LTR isolate).
    code = "\u2066+{}\u2069" if direction(language) == "rtl" else "+{}"
    options = [
        (r, f"{country_name(r, language)} ({code.format(phonenumbers.country_code_for_region(r))})")
        for r in regions
    ]
    return sorted(options, key=lambda option: _folded(option[1]))  # "Åland" among the A's


def international(e164: str) -> str:
    """`+442079460958` -> `+44 20 7946 0958`: a number shown in full, to the person who typed it."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def flag(region: str) -> str:
    """The region's flag emoji (its two regional-indicator letters); "" for anything else."""
    if len(region) != 2 or not region.isascii() or not region.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in region.upper())


def dialing_code(region: str) -> str:
    """`GB` -> `+44`; "" for a region `phonenumbers` does not know."""
    code = phonenumbers.country_code_for_region(region) if region in phonenumbers.SUPPORTED_REGIONS else 0
    return f"+{code}" if code else ""


def search_countries(query: object, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The regions matching what was typed in the country search, best first.

    "spain" or "spa" (a name, or the start of one of its words; accents and case ignored),
    "+34" or "34" (a dialing code; the code's main country first, e.g. US for +1), "ES"
    (an ISO code). Empty or unusable: no regions.
    """
    text = _folded(query.strip()[:40]) if isinstance(query, str) else ""
    if not text:
        return []
    regions = sorted(allowed or phonenumbers.SUPPORTED_REGIONS, key=lambda r: _folded(country_name(r)))
    digits = text.removeprefix("+")
    if digits.isdigit():
        main = phonenumbers.region_code_for_country_code(int(digits[:3]))
        exact = [r for r in regions if str(phonenumbers.country_code_for_region(r)) == digits]
        starts = [r for r in regions if str(phonenumbers.country_code_for_region(r)).startswith(digits)]
        return _ranked([r for r in exact if r == main], exact, starts)
    iso = [r for r in regions if r.lower() == text]
    # By its name in the current language, and by its English name ("spain" in a Spanish page).
    names = [(r, _folded(name)) for r in regions for name in {country_name(r), country_name(r, DEFAULT)}]
    prefix = [r for r, name in names if name.startswith(text)]
    word = [r for r, name in names if any(w.startswith(text) for w in re.split(r"[\s(),.'-]+", name))]
    inside = [r for r, name in names if text in name]
    return _ranked(iso, prefix, word, inside)


def region_from_languages(accept_language: object, allowed: frozenset[str], default: str) -> str:
    """The first region named in a browser's `Accept-Language` (`en-GB` -> GB) that is
    supported (and allowed), in the header's order of preference; else `default`."""
    header = accept_language[:500] if isinstance(accept_language, str) else ""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, index, tag.strip()))
    for _, _, tag in sorted(ranked):
        for subtag in tag.split("-")[1:]:
            region = subtag.upper()
            known = len(region) == 2 and region in phonenumbers.SUPPORTED_REGIONS
            if known and (not allowed or region in allowed):
                return region
    return default


def region_of_typed(text: object, allowed: frozenset[str] = frozenset()) -> str | None:
    """The region of a number being typed in international form (`+44 20...`, `0044 20...`):
    the number's own once it is complete (`+1 416...` -> CA), its dialing code's main
    country before (`+1` -> US). None for a national number, or a region not allowed."""
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return None
    typed = _ascii_digits(text.strip())
    if typed.startswith("+"):
        digits = re.sub(r"[^0-9]", "", typed[1:])
    elif typed.startswith("00"):
        digits = re.sub(r"[^0-9]", "", typed[2:])
    else:
        return None
    region = None
    try:
        number = phonenumbers.parse("+" + digits)
        if phonenumbers.is_valid_number(number):
            region = phonenumbers.region_code_for_number(number)
    except phonenumbers.NumberParseException:
        pass
    for size in range(1, 4):
        if region is None and len(digits) >= size:
            found = phonenumbers.region_code_for_country_code(int(digits[:size]))
            region = found if found in phonenumbers.SUPPORTED_REGIONS else None
    if region is None or (allowed and region not in allowed):
        return None
    return region


def as_you_type(text: object, region: str) -> str:
    """`text` formatted as a person of `region` writes numbers (phonenumbers' as-you-type
    formatter): `4155552671` -> `(415) 555-2671`, `+442079460958` -> `+44 20 7946 0958`, and
    a leading `00` written as `+`. Text with anything but digits and the usual separators
    (an extension, letters) comes back as it was."""
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return text if isinstance(text, str) else ""
    typed = _ascii_digits(text.strip())
    if not typed or not re.fullmatch(r"\+?[0-9 ()./\-]*", typed):
        return text
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    formatter = AsYouTypeFormatter(region if region in phonenumbers.SUPPORTED_REGIONS else "ZZ")
    formatted = typed
    for char in ("+" if typed.startswith("+") else "") + re.sub(r"[^0-9]", "", typed):
        formatted = formatter.input_digit(char)
    return formatted


def typed_digits(text: object) -> str:
    """What a number being typed is made of: its digits, with a leading `+` (or `00`, as `+`)."""
    typed = _ascii_digits(text.strip()) if isinstance(text, str) else ""
    digits = re.sub(r"[^0-9]", "", typed)
    if typed.startswith("+"):
        return "+" + digits
    return "+" + digits[2:] if typed.startswith("00") else digits


def _ascii_digits(text: str) -> str:
    """Any Unicode decimal digit (full-width ones too) as its ASCII digit."""
    return "".join(str(d) if (d := unicodedata.decimal(c, None)) is not None else c for c in text)


def _folded(text: str) -> str:
    """Lower case without accents, for matching country names ("Réunion" ~ "reunion")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u2019", "'")


def _ranked(*groups: list[str]) -> list[str]:
    """The groups one after the other, each region once, in its first place."""
    return list(dict.fromkeys(r for group in groups for r in group))


def _parse(text: str, country: str) -> phonenumbers.PhoneNumber:
    """Parse as typed; also try a leading `00` as `+` when the region's own
    international prefix is different (`0049 ...` typed with US selected). The zeros
    may be any Unicode zero digits (full-width ones too), as `phonenumbers` accepts elsewhere."""
    candidates = [text]
    if len(text) >= 2 and all(unicodedata.decimal(c, None) == 0 for c in text[:2]):
        candidates.append("+" + text[2:])
    parsed: list[phonenumbers.PhoneNumber] = []
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
        parsed.append(number)
    if parsed:
        return parsed[0]
    raise InvalidPhone(messages.PHONE_UNPARSABLE)


def _check_type(kind: int, channel: str) -> None:
    if kind in (_VOICE_TYPES if channel == "voice" else _SMS_TYPES):
        return
    if kind == PhoneNumberType.FIXED_LINE:
        raise InvalidPhone(messages.LANDLINE_BY_SMS)
    raise InvalidPhone(messages.kind_not_served(_TYPE_KINDS.get(kind, "")))
