"""The tab's language: the switch's choice, else the cookie the socket came with, else Accept-Language;
the middleware makes it the event's language before the handler runs."""

from __future__ import annotations

import asyncio

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from plivo_otp_app.state.language import LanguageMiddleware, LanguageState
from plivo_otp_app.translations import current_language, use_language


def _tab(accept_language: str = "", cookie: str = "") -> tuple[State, LanguageState]:
    root = State(_reflex_internal_init=True)
    headers = {"accept-language": accept_language, "cookie": cookie}
    router = RouterData.from_router_data({"ip": "198.51.100.7", "token": "tab-1", "headers": headers})
    languages = root.get_substate(LanguageState.get_full_name().split("."))
    assert isinstance(languages, LanguageState)
    languages.router = router
    return root, languages


@pytest.mark.parametrize(
    ("accept_language", "cookie", "wanted"),
    [
        ("", "", "en"),
        ("es-ES,es;q=0.9", "", "es"),
        ("es-ES", "otp_language=ar", "ar"),  # the switch's cookie wins over the browser
        ("ar", "otp_language=xx", "ar"),  # a cookie that names no language of ours is ignored
        ("de", "other=1; otp_language=es", "es"),
    ],
)
def test_the_tab_wants_the_cookie_else_the_browsers_language(accept_language, cookie, wanted):
    _, languages = _tab(accept_language, cookie)
    assert languages._wanted() == wanted


def test_the_switch_takes_only_our_languages():
    _, languages = _tab("es")
    with use_language("en"):
        languages.choose("ar")
        assert (languages.chosen, languages.language) == ("ar", "ar")
        languages.choose("<script>")
        languages.choose(3)  # type: ignore[arg-type] - the browser may send anything
        assert (languages.chosen, languages.language) == ("ar", "ar")
    assert languages._wanted() == "ar"


def test_the_middleware_sets_the_events_language_and_the_tabs():
    root, languages = _tab("es-MX")
    assert languages.language == "en"

    async def preprocess() -> str:
        assert await LanguageMiddleware().preprocess(app=None, state=root, event=None) is None  # type: ignore[arg-type]
        return current_language()

    assert asyncio.run(preprocess()) == "es"  # in the handler's task
    assert languages.language == "es"  # what the compiled labels show
    assert current_language() == "en"  # this task was not the event's
