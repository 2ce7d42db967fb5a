"""The product's languages: the catalogues, the language of the work at hand, and Babel's formats.

The catalogues are gettext `.po` files in `locale/<language>/LC_MESSAGES/messages.po`, keyed
by the English text, read at run time with Babel (compiled in memory, once per process).
`current_language()` is a context variable: a Reflex middleware sets it for each event of
the browser (`i18n.LanguageMiddleware`), the JSON API for each request (`Accept-Language`),
so the sentences `messages.py` makes come out in the visitor's language with no argument
passed down. Nothing here imports Reflex: the services and the API use it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

#: The languages the product speaks, the first the default.
LANGUAGES = ("en", "es", "ar")
DEFAULT = LANGUAGES[0]
#: Each language's name in itself, for the language switch.
NATIVE_NAMES = {"en": "English", "es": "Español", "ar": "العربية"}
#: Plivo Verify's locale for each language (Plivo's templates: `en`, `es`, `ar`, ...; default `en`).
PLIVO_LOCALES = {"en": "en", "es": "es", "ar": "ar"}
LOCALE_DIR = Path(__file__).parent / "locale"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("otp_language", default=DEFAULT)


def current_language() -> str:
    """The language of the event or request being handled (English outside of one)."""
    return _language.get()


def set_language(language: str) -> None:
    """Make `language` (one of `LANGUAGES`, else the default) the current task's language."""
    _language.set(language if language in LANGUAGES else DEFAULT)


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """`language` for the work inside the block (tests, a request), then the previous one."""
    token = _language.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def negotiate(accept_language: str) -> str:
    """The best of `LANGUAGES` for an `Accept-Language` header (`es-MX,es;q=0.9,en;q=0.5` -> `es`).

    Languages are compared by their primary subtag, in the order of the header's q-values
    (ties in the header's order); none of ours, or no header: the default.
    """
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT


@functools.cache
def territory_names(language: str) -> dict[str, str]:
    """Region names in `language` (CLDR's, through Babel), by ISO code."""
    return dict(Locale.parse(language).territories)


def direction(language: str) -> str:
    """`rtl` or `ltr`, as `<html dir>` takes it."""
    return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"


def po_path(language: str) -> Path:
    """Where the catalogue of `language` is kept."""
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The translations of `language`, read from its `.po` file with Babel (English: the keys)."""
    path = po_path(language)
    if language == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        parsed = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, parsed)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(text: str, language: str | None = None) -> str:
    """`text` (an English msgid) in `language` (default: the current one); itself when not translated."""
    return catalogue(language or current_language()).gettext(text) if text else text


def translate_plural(singular: str, plural: str, count: int, language: str | None = None) -> str:
    """The form for `count` of a sentence, by the language's plural rules (Arabic has six forms)."""
    return catalogue(language or current_language()).ngettext(singular, plural, count)


def number(value: int | float, language: str | None = None) -> str:
    """A number as the language writes it (`1,234`, `1.234`)."""
    return format_decimal(value, locale=language or current_language())


def date(moment: datetime, language: str | None = None) -> str:
    """A day, as the language writes it (`Dec 1, 2026`, `1 dic 2026`)."""
    return format_date(moment, "medium", locale=language or current_language())


def date_time(moment: datetime, language: str | None = None) -> str:
    """A day and time in UTC with its zone, as the language writes them (a naive `moment` is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_datetime(aware, "long", tzinfo=UTC, locale=language or current_language())
