"""The JSON API answers in the request's `Accept-Language`, and each send tells Plivo the language.

Over real HTTP: the API on uvicorn, the real service, the real Plivo SDK talking to the
sandbox, which records the `locale` of every session it was asked for.
"""

from __future__ import annotations

import httpx
import pytest
from conftest import free_port, serve

from plivo_otp_app.api import build_api
from plivo_otp_app.translations import use_language

MOBILE = "+14155554210"


@pytest.fixture
def api(make_service):
    service = make_service()
    port = free_port()
    server = serve(build_api(lambda: service), port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
        yield client
    server.should_exit = True


def _send(api: httpx.Client, language: str | None, recipient: str = MOBILE) -> httpx.Response:
    headers = {"Accept-Language": language} if language else {}
    return api.post("/api/otp/send", json={"recipient": recipient}, headers=headers)


@pytest.mark.parametrize(
    ("language", "locale"),
    [(None, "en"), ("en-GB", "en"), ("es-MX,es;q=0.9", "es"), ("ar", "ar"), ("de", "en")],
)
def test_each_send_asks_plivo_for_the_language_of_the_request(api, sandbox, language, locale):
    response = _send(api, language)
    assert response.status_code == 200, response.text
    assert sandbox.store.messages(MOBILE)[0].locale == locale


def test_the_api_errors_are_in_the_request_language(api, sandbox):
    session_uuid = _send(api, "es").json()["session_uuid"]
    code = sandbox.code_for(MOBILE)
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    headers = {"Accept-Language": "es-ES,es;q=0.9"}

    answer = api.post("/api/otp/verify", json={"session_uuid": session_uuid, "otp": wrong}, headers=headers)

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "code_incorrect"  # the machine-readable part stays the same
    assert body["message"] == body["error"] == "Ese código no es correcto. Te quedan 4 intentos."
    refused = api.post("/api/otp/send", json={}, headers={"Accept-Language": "ar"})
    # The field's name isolated (FSI ... PDI), so that it keeps its order in a right-to-left sentence.
    assert refused.json()["message"] == "الحقل '\u2068recipient\u2069' مطلوب."


def test_without_accept_language_the_api_speaks_english(api):
    refused = api.post("/api/otp/send", json={})
    assert refused.status_code == 400
    assert refused.json()["message"] == "The field 'recipient' is required."


def test_a_request_language_does_not_leak_into_the_next_request(api):
    assert api.post("/api/otp/send", json={}, headers={"Accept-Language": "es"}).json()["message"] == (
        "El campo 'recipient' es obligatorio."
    )
    assert api.post("/api/otp/send", json={}).json()["message"] == "The field 'recipient' is required."


def test_the_service_outside_a_request_asks_for_english(service, sandbox):
    with use_language("es"):
        service.start("+14155554211", "US", "sms", "192.0.2.1")
    service.start("+14155554212", "US", "sms", "192.0.2.1")
    assert sandbox.store.messages("+14155554211")[0].locale == "es"
    assert sandbox.store.messages("+14155554212")[0].locale == "en"
