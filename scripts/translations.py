"""Extract every word a user reads into the catalogues, keeping what is translated.

    python scripts/translations.py          # writes locale/messages.pot, updates each messages.po

Locations are files without line numbers, so that moving code does not touch the catalogues.

The sources: `messages.py` (its `catalogue()` and `plurals()`), and the labels of
`components/` and `pages/` written with `t("...")`, `tn("...", "...", n)` and
`t_around("...")` (Babel's extractor, as `pybabel extract -k t -k tn:1,2 -k t_around`).
New msgids come in untranslated (the unit test `test_translations.py` then fails until
they are translated); msgids no longer used are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plivo_otp_app import messages  # noqa: E402
from plivo_otp_app.translations import DEFAULT, LANGUAGES, LOCALE_DIR, po_path  # noqa: E402

KEYWORDS = {"t": None, "tn": (1, 2), "t_around": None}
PACKAGE = ROOT / "plivo_otp_app"


def template() -> Catalog:
    """Every msgid: the messages module's, then the labels in components/ and pages/."""
    catalog = Catalog(project="plivo_otp_app", fuzzy=False)
    plural_of = dict(messages.plurals())
    plural_forms = set(plural_of.values())
    for text in messages.catalogue():
        if text in plural_forms:
            continue
        msgid = (text, plural_of[text]) if text in plural_of else text
        catalog.add(msgid, locations=[("plivo_otp_app/messages.py", 0)], flags=["python-brace-format"])
    for folder in ("components", "pages"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            PACKAGE / folder, keywords=KEYWORDS, comment_tags=()
        ):
            if not message or (isinstance(message, tuple) and not all(message)):
                continue
            where = (f"plivo_otp_app/{folder}/{filename}", lineno)
            existing = catalog.get(message[0] if isinstance(message, tuple) else message)
            if existing is not None:
                existing.locations.append(where)
                continue
            catalog.add(message, locations=[where], flags=["python-brace-format"])
    return catalog


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def main() -> None:
    pot = template()
    with (LOCALE_DIR / "messages.pot").open("wb") as out:
        write_po(out, pot, width=100, omit_header=False, sort_output=False, include_lineno=False)
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=language)
        else:
            catalog = Catalog(locale=language, project="plivo_otp_app", fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True, include_lineno=False)
        missing = [m.id for m in catalog if m.id and not _translated(m.string)]
        print(f"{language}: {len(catalog)} messages, {len(missing)} untranslated")  # noqa: T201


if __name__ == "__main__":
    main()
