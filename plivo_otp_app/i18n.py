"""The words of the pages in the reader's language.

`t(text, **values)` is how a component or page writes a label: the English text is the
catalogue's key, `{placeholders}` are filled with `values`, and what comes back is a Var the
page shows in the visitor's language. `current_language()` is the language of the event
being handled, for sentences made on the server (`messages.py`).

English only for now: every label comes back as written.
"""

from __future__ import annotations

import reflex as rx

#: The languages the product speaks, the first the default.
LANGUAGES = ("en",)


def t(text: str, **values: object) -> rx.Var[str]:
    """A label of a component or page, in the visitor's language (English key, `{named}` values)."""
    return rx.Var.create(text.format(**values) if values else text)


def current_language() -> str:
    """The language of the event being handled (what the server's sentences are written in)."""
    return LANGUAGES[0]
