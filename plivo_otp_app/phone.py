"""Phone-number rules: parse what people type, normalise to E.164, refuse what cannot get a code.

Everything that decides whether a number may receive a code lives here, so the
same rules apply to the UI, the JSON API and every rate-limit key.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from . import messages
from .errors import InvalidInput, InvalidPhone

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


def country_name(region: str) -> str:
    """English name of a region, or the code itself."""
    return _country_names().get(region, region)


@functools.cache
def _country_names() -> dict[str, str]:
    """The geocoder's English region names, saved by `scripts/country_names.py`: importing
    `phonenumbers.geocoder` itself would load ~100 MiB of prefix data into every process."""
    text = resources.files("plivo_otp_app").joinpath("data", "country-names.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def country_options(allowed: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(code, "Name (+cc)") pairs for the country selector, sorted by name."""
    regions = allowed or phonenumbers.SUPPORTED_REGIONS
    options = [(r, f"{country_name(r)} (+{phonenumbers.country_code_for_region(r)})") for r in regions]
    return sorted(options, key=lambda option: option[1])


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
