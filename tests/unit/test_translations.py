"""The catalogues cover every word, the language is chosen as the browser asks, and sentences come
out in it: plural forms by the language's rules, numbers and dates as it writes them."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from plivo_otp_app import errors, messages
from plivo_otp_app.translations import (
    DEFAULT,
    LANGUAGES,
    catalogue,
    current_language,
    date_time,
    direction,
    negotiate,
    po_path,
    use_language,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT]
_PLACEHOLDER = re.compile(r"{(\w+)}")


def _extractor():
    spec = importlib.util.spec_from_file_location("translations_script", ROOT / "scripts" / "translations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _msgids() -> list[str | tuple[str, str]]:
    return [m.id for m in _extractor().template() if m.id]


def _po(language: str):
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language)


def test_the_extraction_finds_the_messages_and_the_labels():
    msgids = _msgids()
    assert messages.OUTAGE in msgids and "Send code" in msgids and "Verify your phone" in msgids
    assert (messages.CODE_REJECTED_ONE, messages.CODE_REJECTED_MANY) in msgids
    assert "Sandbox: no real SMS is sent. Codes appear in the {link}." in msgids  # t_around
    assert all(isinstance(m, tuple) for m in msgids if isinstance(m, tuple) and len(m) == 2)
    assert len(msgids) > 180


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_msgid_has_a_translation_with_the_same_placeholders(language):
    catalog = _po(language)
    missing, wrong = [], []
    for msgid in _msgids():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key)
        if entry is None or not entry.string or not all(entry.string):
            missing.append(msgid)
            continue
        wanted = set(_PLACEHOLDER.findall(msgid[-1] if isinstance(msgid, tuple) else msgid))
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        # A plural form may say its count in words ("one attempt"); the most general form says it all.
        if set(_PLACEHOLDER.findall(forms[-1])) != wanted or any(
            not set(_PLACEHOLDER.findall(form)) <= wanted for form in forms
        ):
            wrong.append((msgid, forms))
        if "fuzzy" in entry.flags:
            wrong.append((msgid, "fuzzy"))
    assert missing == [], f"run scripts/translations.py and translate: {missing}"
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_holds_no_msgid_the_code_no_longer_says(language):
    wanted = {m[0] if isinstance(m, tuple) else m for m in _msgids()}
    held = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _po(language) if m.id}
    assert held - wanted == set()


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "en"),
        ("en-US,en;q=0.9", "en"),
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("ar-EG", "ar"),
        ("fr-FR, ar;q=0.4, es;q=0.3", "ar"),
        ("de, en;q=0.1", "en"),
        ("de", "en"),
        ("es;q=0, ar", "ar"),
        ("EN-gb;q=0.8, ES;q=0.9", "es"),
        ("garbage;;q=x,,", "en"),
    ],
)
def test_the_language_is_negotiated_from_accept_language(header, language):
    assert negotiate(header) == language


def test_arabic_reads_right_to_left():
    assert [direction(language) for language in LANGUAGES] == ["ltr", "ltr", "rtl"]


def test_sentences_are_english_outside_a_language_and_in_the_language_inside():
    assert current_language() == "en"
    assert errors.InvalidCredentials().user_message() == messages.INVALID_CREDENTIALS
    with use_language("es"):
        assert current_language() == "es"
        assert errors.InvalidCredentials().user_message() == "Nombre de usuario o contraseña incorrectos."
        assert errors.InvalidInput(messages.PHONE_EMPTY).user_message() == "Introduce tu número de teléfono."
        assert errors.RateLimited(269, "send").user_message() == (
            "Se enviaron demasiados códigos. Podrás pedir un código nuevo dentro de 4 min 29 s."
        )
    with use_language("ar"):
        assert errors.NotSignedIn().user_message() == "انتهت جلستك. يُرجى تسجيل الدخول مرة أخرى."
        assert messages.duration(3900) == "1 س 5 د"
    assert current_language() == "en"


def test_an_unknown_language_is_english():
    with use_language("xx"):
        assert current_language() == "en"
        assert messages.code_rejected(2) == "That code is not correct. 2 attempts left."


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (0, "هذا الرمز غير صحيح. لم تبقَ أي محاولة."),
        (1, "هذا الرمز غير صحيح. بقيت محاولة واحدة."),
        (2, "هذا الرمز غير صحيح. بقيت محاولتان."),
        (4, "هذا الرمز غير صحيح. بقيت 4 محاولات."),
        (11, "هذا الرمز غير صحيح. بقيت 11 محاولةً."),
        (100, "هذا الرمز غير صحيح. بقيت 100 محاولة."),
    ],
)
def test_arabic_counts_with_its_six_plural_forms(count, said):
    with use_language("ar"):
        assert messages.code_rejected(count) == said
        assert errors.CodeRejected(count).user_message() == said


def test_spanish_counts_one_and_many():
    with use_language("es"):
        assert messages.signed_out_others(1) == "Se cerró 1 sesión más."
        assert messages.signed_out_others(3) == "Se cerraron 3 sesiones más."
        assert messages.code_rejected(1) == "Ese código no es correcto. Te queda 1 intento."


def test_numbers_and_dates_are_written_as_the_language_writes_them():
    moment = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)
    assert date_time(moment, "en") == "December 1, 2026, 5:05:00\u202fPM UTC"
    assert date_time(moment, "es") == "1 de diciembre de 2026, 17:05:00 UTC"
    assert date_time(moment.replace(tzinfo=None), "es") == "1 de diciembre de 2026, 17:05:00 UTC"
    with use_language("es"):
        assert messages.password_too_long(1024) == "Usa como máximo 1.024 caracteres."
    assert messages.password_too_long(1024) == "Use at most 1,024 characters."


def test_the_catalogues_are_read_once_per_process():
    assert catalogue("es") is catalogue("es")
    assert catalogue("en").gettext("Send code") == "Send code"


def _js(var: object) -> str:
    """A Var's JavaScript, with the non-ASCII letters Reflex escapes read back."""
    return str(var).encode().decode("unicode_escape")


def test_a_label_holds_every_language_indexed_by_the_tabs_language():
    from plivo_otp_app.i18n import t
    from plivo_otp_app.state.language import LanguageState

    compiled = _js(t("Send code"))
    assert '"Send code"' in compiled and '"Enviar código"' in compiled and '"أرسل الرمز"' in compiled
    assert str(LanguageState.language) in compiled
    assert str(t("Plivo OTP")) == '"Plivo OTP"'  # the same in every language: a plain literal


def test_a_label_with_a_number_writes_it_in_each_language_and_a_var_as_itself():
    from plivo_otp_app.i18n import t
    from plivo_otp_app.state.verify import VerifyState

    assert '"Usa como máximo 1.024 caracteres."' in _js(t(messages.PASSWORD_TOO_LONG, maximum=1024))
    countdown = _js(t("Resend code in {wait}", wait=VerifyState.resend_wait))
    assert countdown.count(str(VerifyState.resend_wait)) >= 3  # filled in the browser, in each wording


def test_a_count_known_at_build_time_takes_each_languages_plural_form():
    from plivo_otp_app.i18n import tn

    one_many = ("Remember this device for {count} day", "Remember this device for {count} days")
    thirty = _js(tn(*one_many, 30))
    assert "Remember this device for 30 days" in thirty
    assert "Recordar este dispositivo durante 30 días" in thirty
    assert "تذكّر هذا الجهاز لمدة 30 يومًا" in thirty  # 11-99: Arabic's "many" form
    assert "تذكّر هذا الجهاز ليومين" in _js(tn(*one_many, 2))  # the dual


def test_a_sentence_with_a_link_is_split_around_it_in_each_language():
    from plivo_otp_app.i18n import t_around

    before, after = t_around("Sandbox: no real SMS is sent. Codes appear in the {link}.")
    assert "Los códigos aparecen en la " in _js(before) and "Codes appear in the " in _js(before)
    assert str(after) == '"."'


def test_every_typed_error_speaks_the_current_language():
    from test_messages import _WORDS_FROM_RAISER, _all_subclasses, _instances

    from plivo_otp_app import services as _services  # noqa: F401 - the services define typed errors too
    from plivo_otp_app.errors import OtpError

    untranslated = []
    for cls in [OtpError, *_all_subclasses(OtpError)]:
        if issubclass(cls, _WORDS_FROM_RAISER):
            continue
        for error in _instances(cls):
            english = error.user_message()
            with use_language("es"):
                spanish = error.user_message()
            if spanish == english:
                untranslated.append((cls.__name__, english))
    assert untranslated == []


def test_a_phone_number_reads_left_to_right_inside_an_arabic_sentence():
    """A left-to-right isolate (U+2066): a first-strong one finds no letter in "+1 415-555-0104"
    and takes the sentence's right-to-left direction, showing "1+ ... 0104-415-555"."""
    from plivo_otp_app.messages import code_on_its_way, phone_changed_notice
    from plivo_otp_app.translations import use_language

    with use_language("ar"):
        assert "\u2066+1 415-555-0104\u2069" in code_on_its_way("sms", 6, "+1 415-555-0104")
        assert "\u2066+1 ******0104\u2069" in phone_changed_notice("+1 ******0104")
