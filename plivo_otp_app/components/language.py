"""The header's language switch (`#language`), and `<html lang dir>` following the tab's language."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var, VarData

from ..i18n import t
from ..state import VerifyState
from ..state.language import LanguageState
from ..translations import LANGUAGES, NATIVE_NAMES, direction

#: `dir` by language, compiled into the page.
_DIRECTIONS = {language: direction(language) for language in LANGUAGES}


class _DocumentLanguage(rx.Fragment):
    """Renders nothing; sets `<html lang>` and `dir` to the tab's language whenever it changes.

    Reflex compiles `<html lang="en">` into the document root once for every page (it may not
    hold state), and has no component for the root's attributes: this is the one small effect
    the bundle carries for it (no `eval`; the page's CSP allows only the bundle's scripts).
    """

    def add_hooks(self) -> list[str | Var]:
        language = f"{LanguageState.language!s}"
        directions = f"{Var.create(_DIRECTIONS)!s}"
        effect = (
            "useEffect(() => { const root = document.documentElement; "
            f'root.lang = {language}; root.dir = {directions}[{language}] ?? "ltr"; }}, [{language}]);'
        )
        state = rx.Var.create(LanguageState.language)._get_all_var_data()
        react = VarData(imports={"react": ["useEffect"]})
        return [Var(_js_expr=effect, _var_data=VarData.merge(react, state))]


def document_language() -> rx.Component:
    """`<html lang dir>` in step with `LanguageState.language` (in the header, so on every page)."""
    return _DocumentLanguage.create()


def language_switch() -> rx.Component:
    """A labelled select of the product's languages, each named in itself; the choice is a cookie."""
    return rx.el.div(
        rx.el.label(t("Language"), html_for="language", class_name="language-label potp-theme-label"),
        rx.el.select(
            *[rx.el.option(NATIVE_NAMES[language], value=language, lang=language) for language in LANGUAGES],
            id="language",
            name="language",
            class_name="potp-theme-select",  # the header's two switches look alike
            value=LanguageState.language,
            # The words switch in the page; the country names come from the server.
            on_change=lambda language: [LanguageState.choose(language), VerifyState.rename_countries()],
        ),
        document_language(),
        class_name="language-switch potp-theme",
    )
