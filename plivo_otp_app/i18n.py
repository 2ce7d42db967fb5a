"""The words of the pages in the reader's language.

`t(text, **values)` is how a component or page writes a label: the English text is the
catalogue's key, `{placeholders}` are filled with `values`, and what comes back is a Var the
page shows in the visitor's language. Every language's wording is compiled into the page
(`{"en": ..., "es": ..., "ar": ...}[language]`, indexed by `LanguageState.language`), so the
language switch needs no round trip for the labels and `reflex export` holds them all. A
value may be a plain value (a number is written as each language writes it) or a Var (filled
in the browser, e.g. a countdown the server words).

`current_language()` is the language of the event being handled, for sentences made on the
server (`messages.py`; see `translations.py` and `state/language.py`).
"""

from __future__ import annotations

import reflex as rx

from .state.language import LanguageState
from .translations import LANGUAGES, current_language, number, translate, translate_plural

__all__ = ["LANGUAGES", "current_language", "t", "t_around", "tn"]


def _filled(template: str, values: dict[str, object], language: str) -> str:
    """`template` with `values`: numbers in the language's digits and separators, a Var as itself."""
    if not values:
        return template
    shown = {
        key: number(value, language)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
        for key, value in values.items()
    }
    return template.format(**shown)


def _shown(worded: dict[str, str]) -> rx.Var[str]:
    """One wording per language, as the Var of the tab's language."""
    if len(set(worded.values())) == 1:
        return rx.Var.create(worded[LANGUAGES[0]])
    by_language = rx.Var.create({language: rx.Var.create(said) for language, said in worded.items()})
    return by_language[LanguageState.language].to(str)


def t(text: str, **values: object) -> rx.Var[str]:
    """A label of a component or page, in the visitor's language (English key, `{named}` values)."""
    return _shown({language: _filled(translate(text, language), values, language) for language in LANGUAGES})


def tn(singular: str, plural: str, count: int, **values: object) -> rx.Var[str]:
    """A label with a count known when the page is built (a setting), in the form each
    language's plural rules pick for it; `{count}` is the count."""
    return _shown(
        {
            language: _filled(
                translate_plural(singular, plural, count, language), {"count": count, **values}, language
            )
            for language in LANGUAGES
        }
    )


def t_around(text: str, **values: object) -> tuple[rx.Var[str], rx.Var[str]]:
    """The words before and after `{link}` in a sentence with a link in it, in the visitor's language.

    The translator sees the whole sentence (`"Codes appear in the {link}."`) and the link's own
    words as a label of their own: the page puts `before`, the link, `after`.
    """
    parts = {
        language: _filled(translate(text, language), {**values, "link": "\0"}, language).split("\0", 1)
        for language in LANGUAGES
    }
    return (
        _shown({language: part[0] for language, part in parts.items()}),
        _shown({language: part[1] if len(part) > 1 else "" for language, part in parts.items()}),
    )
