"""The sandbox speaks Plivo Verify over plain HTTP (plivo-verify.md §2-4 and §9).

Raw `httpx` against the running sandbox: status codes, body shapes, one session
per recipient with the same code on every delivery, code lengths, the
10-validation cap, expiry on the movable clock, and the outbox test hooks.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from plivo_otp_app.config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN

SESSIONS = f"/v1/Account/{SANDBOX_AUTH_ID}/Verify/Session/"
PHONE = "+14155552671"
OTHER = "+14155550123"
THIRD = "+447700900123"


@pytest.fixture
def api(sandbox) -> Iterator[httpx.Client]:
    """An HTTP client with the sandbox's credentials."""
    with httpx.Client(
        base_url=sandbox.base_url, auth=(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN), timeout=5
    ) as client:
        yield client


def create(api: httpx.Client, recipient: object = PHONE, **fields: object) -> httpx.Response:
    return api.post(SESSIONS, json={"recipient": recipient, **fields})


def session_uuid(api: httpx.Client, recipient: str = PHONE, **fields: object) -> str:
    response = create(api, recipient, **fields)
    assert response.status_code == 202, response.text
    return response.json()["session_uuid"]


def validate(api: httpx.Client, uuid_: str, otp: object) -> httpx.Response:
    # The SDK echoes session_uuid in the body; the sandbox must ignore it.
    return api.post(f"{SESSIONS}{uuid_}/", json={"session_uuid": uuid_, "otp": otp})


def get(api: httpx.Client, uuid_: str) -> httpx.Response:
    return api.get(f"{SESSIONS}{uuid_}/")


def wrong_codes(code: str, count: int) -> list[str]:
    """`count` distinct codes of the same length, none equal to `code`."""
    size = len(code)
    return [f"{(int(code) + i) % 10**size:0{size}d}" for i in range(1, count + 1)]


def assert_error(response: httpx.Response, status: int) -> dict[str, object]:
    """A Plivo-style error: the status, a JSON content type, `api_id` and `error`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    uuid.UUID(body["api_id"])
    return body


def test_create_answers_202_with_session_initiated(api, sandbox):
    response = create(api, channel="sms")
    assert response.status_code == 202
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"api_id", "message", "session_uuid"}
    assert body["message"] == "Session initiated"
    uuid.UUID(body["api_id"])
    uuid.UUID(body["session_uuid"])
    assert body["api_id"] != body["session_uuid"]
    assert len(sandbox.store.messages(PHONE)) == 1


def test_create_accepts_recipient_without_plus(api, sandbox):
    first = session_uuid(api, PHONE.lstrip("+"))
    assert session_uuid(api, PHONE) == first
    assert len(sandbox.store.messages(PHONE)) == 2


def test_repeat_create_reuses_session_and_code_even_by_voice(api, sandbox):
    first = session_uuid(api, channel="sms")
    second = session_uuid(api, channel="sms")
    third = session_uuid(api, channel="voice")
    assert first == second == third
    messages = sandbox.store.messages(PHONE)
    assert [m.channel for m in messages] == ["voice", "sms", "sms"]
    assert len({m.code for m in messages}) == 1
    code = messages[0].code
    assert code in messages[1].text
    assert " ".join(code) in messages[0].text  # spoken digit by digit
    session = get(api, first).json()
    assert session["count"] == 3
    assert session["channel"] == "voice"
    assert [a["channel"] for a in session["attempt_details"]] == ["sms", "sms", "voice"]


def test_other_recipient_gets_another_session(api, sandbox):
    assert session_uuid(api, PHONE) != session_uuid(api, OTHER)
    assert len(sandbox.store.messages(PHONE)) == 1
    assert len(sandbox.store.messages(OTHER)) == 1


def test_default_code_is_six_ascii_digits(api, sandbox):
    session_uuid(api)
    assert re.fullmatch(r"[0-9]{6}", sandbox.code_for(PHONE))


@pytest.mark.parametrize("length", [4, 5, 6, 7, 8, "4", "8"])
def test_code_length_sets_the_number_of_ascii_digits(api, sandbox, length):
    session_uuid(api, code_length=length)
    code = sandbox.code_for(PHONE)
    assert re.fullmatch(f"[0-9]{{{int(length)}}}", code), code


@pytest.mark.parametrize("length", [3, 9, 0, -1, 6.0, True, "abc", "", " 6", "²", "٦", [6]])
def test_code_length_out_of_range_is_400(api, sandbox, length):
    body = assert_error(create(api, code_length=length), 400)
    assert "code_length" in body["error"]
    assert sandbox.store.messages() == []
    assert sandbox.store.sessions() == []


@pytest.mark.parametrize(
    "recipient",
    [
        None,
        "",
        "   ",
        "+",
        "abc",
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+1 415 555 2671",
        "+1-415-555-2671",
        "++14155552671",
        "\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff12\uff16\uff17\uff11",  # full-width digits
        "\u0661\u0664\u0661\u0665\u0665\u0665\u0665\u0662\u0666\u0667\u0661",  # Arabic-Indic digits
        14155552671,
        ["+14155552671"],
    ],
)
def test_invalid_recipient_is_400(api, sandbox, recipient):
    assert_error(create(api, recipient), 400)
    assert sandbox.store.messages() == []


def test_missing_recipient_is_400(api, sandbox):
    body = assert_error(api.post(SESSIONS, json={"channel": "sms"}), 400)
    assert "recipient" in body["error"]
    assert_error(api.post(SESSIONS), 400)  # no body at all
    assert sandbox.store.messages() == []


@pytest.mark.parametrize("channel", ["whatsapp", "SMS", "email", 1])
def test_channel_other_than_sms_or_voice_is_400(api, sandbox, channel):
    body = assert_error(create(api, channel=channel), 400)
    assert "channel" in body["error"]
    assert sandbox.store.messages() == []


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("path_auth_id", "headers"),
    [
        (SANDBOX_AUTH_ID, _basic(SANDBOX_AUTH_ID, "wrong-token")),
        (SANDBOX_AUTH_ID, _basic("MAWRONGWRONGWRONGWRO", SANDBOX_AUTH_TOKEN)),
        (SANDBOX_AUTH_ID, _basic(SANDBOX_AUTH_ID, "")),
        (SANDBOX_AUTH_ID, {}),
        (SANDBOX_AUTH_ID, {"Authorization": f"Bearer {SANDBOX_AUTH_TOKEN}"}),
        (SANDBOX_AUTH_ID, {"Authorization": "Basic %%%not-base64%%%"}),
        (SANDBOX_AUTH_ID, {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()}),
        ("MAOTHERACCOUNT000000", _basic(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN)),
        (SANDBOX_AUTH_ID.lower(), _basic(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN)),
    ],
)
def test_bad_credentials_or_foreign_auth_id_is_401(sandbox, path_auth_id, headers):
    path = f"/v1/Account/{path_auth_id}/Verify/Session/"
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=5) as client:
        assert_error(client.post(path, json={"recipient": PHONE}), 401)
        assert_error(client.get(path), 401)
        assert_error(client.get(f"{path}{uuid.uuid4()}/"), 401)
        assert_error(client.post(f"{path}{uuid.uuid4()}/", json={"otp": "123456"}), 401)
    assert sandbox.store.messages() == []


def test_wrong_credentials_cannot_validate_a_real_session(api, sandbox):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    with httpx.Client(base_url=sandbox.base_url, auth=(SANDBOX_AUTH_ID, "nope"), timeout=5) as client:
        assert_error(client.post(f"{SESSIONS}{uuid_}/", json={"otp": code}), 401)
    assert sandbox.store.get(uuid_).validations == 0
    assert get(api, uuid_).json()["status"] == "in-progress"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"recipient": ', b"[1, 2]", b'"+14155552671"', b"null", b"\xff\xfe\x00"],
)
def test_malformed_json_is_400(api, sandbox, raw):
    headers = {"Content-Type": "application/json"}
    assert_error(api.post(SESSIONS, content=raw, headers=headers), 400)
    uuid_ = session_uuid(api)
    assert_error(api.post(f"{SESSIONS}{uuid_}/", content=raw, headers=headers), 400)
    assert sandbox.store.get(uuid_).validations == 0


def test_oversized_body_is_refused_with_413(api, sandbox):
    body = json.dumps({"recipient": PHONE, "pad": "x" * 20_000})
    assert_error(api.post(SESSIONS, content=body, headers={"Content-Type": "application/json"}), 413)
    assert sandbox.store.messages() == []


def test_validate_unknown_session_is_404(api):
    assert_error(validate(api, str(uuid.uuid4()), "123456"), 404)
    assert_error(get(api, str(uuid.uuid4())), 404)
    assert_error(get(api, "not-a-uuid"), 404)


def test_validate_wrong_then_right_then_again(api, sandbox):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    [wrong] = wrong_codes(code, 1)

    assert_error(validate(api, uuid_, wrong), 400)
    assert get(api, uuid_).json()["status"] == "in-progress"

    ok = validate(api, uuid_, code)
    assert ok.status_code == 200, ok.text
    assert ok.json()["message"] == "session validated successfully."
    uuid.UUID(ok.json()["api_id"])
    assert "status" not in ok.json()
    assert get(api, uuid_).json()["status"] == "verified"

    again = assert_error(validate(api, uuid_, code), 400)
    assert "verified" in again["error"]
    assert sandbox.store.get(uuid_).validations == 2


def test_validate_accepts_upper_case_otp_key(api, sandbox):
    uuid_ = session_uuid(api)
    response = api.post(f"{SESSIONS}{uuid_}/", json={"OTP": sandbox.code_for(PHONE)})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("otp", [None, "", 123456])
def test_validate_without_a_string_otp_is_400_and_not_counted(api, sandbox, otp):
    uuid_ = session_uuid(api)
    assert_error(validate(api, uuid_, otp), 400)
    assert sandbox.store.get(uuid_).validations == 0
    assert get(api, uuid_).json()["status"] == "in-progress"


def test_code_with_extra_characters_is_wrong(api, sandbox):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    for near in (
        f" {code}",
        f"{code} ",
        code + "0",
        code[:-1],
        code.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        assert_error(validate(api, uuid_, near), 400)
    assert get(api, uuid_).json()["status"] == "in-progress"


def test_after_ten_validations_even_the_right_code_is_refused(api, sandbox):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    for wrong in wrong_codes(code, 10):
        assert_error(validate(api, uuid_, wrong), 400)
    refused = assert_error(validate(api, uuid_, code), 400)
    assert "maximum" in refused["error"]
    assert sandbox.store.get(uuid_).validations == 10
    assert get(api, uuid_).json()["status"] != "verified"


def test_right_code_on_the_tenth_validation_still_counts(api, sandbox):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    for wrong in wrong_codes(code, 9):
        assert_error(validate(api, uuid_, wrong), 400)
    assert validate(api, uuid_, code).status_code == 200


def test_right_code_just_before_expiry_is_accepted(api, sandbox, clock):
    uuid_ = session_uuid(api)
    clock.advance(sandbox.store.expiry_seconds - 1)
    assert validate(api, uuid_, sandbox.code_for(PHONE)).status_code == 200


def test_expired_session_refuses_the_right_code(api, sandbox, clock):
    uuid_ = session_uuid(api)
    code = sandbox.code_for(PHONE)
    clock.advance(sandbox.store.expiry_seconds + 1)
    body = assert_error(validate(api, uuid_, code), 400)
    assert "expired" in body["error"]
    assert get(api, uuid_).json()["status"] == "expired"
    assert sandbox.store.get(uuid_).validations == 0


def test_create_after_expiry_starts_a_new_session(api, sandbox, clock):
    first = session_uuid(api)
    clock.advance(sandbox.store.expiry_seconds)
    second = session_uuid(api)
    assert second != first
    assert get(api, first).json()["status"] == "expired"
    assert get(api, second).json()["count"] == 1


def test_verified_session_is_not_reused_by_a_new_create(api, sandbox):
    first = session_uuid(api)
    assert validate(api, first, sandbox.code_for(PHONE)).status_code == 200
    assert session_uuid(api) != first


def _values(node: object) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item)


def test_get_session_has_the_session_object_fields(api, sandbox):
    uuid_ = session_uuid(api, channel="sms")
    session_uuid(api, channel="voice")
    code = sandbox.code_for(PHONE)

    response = get(api, uuid_)
    assert response.status_code == 200
    body = response.json()
    uuid.UUID(body["api_id"])
    assert body["session_uuid"] == uuid_
    assert body["recipient"] == PHONE.lstrip("+")
    assert body["status"] == "in-progress"
    assert body["channel"] == "voice"
    assert body["count"] == 2
    uuid.UUID(body["app_uuid"])
    assert body["locale"] == "en"
    for key in ("alias", "requestor_ip", "destination_country_iso2", "destination_network"):
        assert key in body
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")

    attempts = body["attempt_details"]
    assert [a["channel"] for a in attempts] == ["sms", "voice"]
    for attempt in attempts:
        uuid.UUID(attempt["attempt_uuid"])
        assert attempt["status"]
        assert attempt["time"].endswith("Z")

    charges = body["charges"]
    assert float(charges["total_charge"]) > 0
    assert float(charges["validation_charge"]) == 0
    assert [c["attempt_uuid"] for c in charges["attempt_charges"]] == [a["attempt_uuid"] for a in attempts]
    assert all(isinstance(c["charge"], str) for c in charges["attempt_charges"])

    # The code is the secret: no field of the session object carries it.
    assert not any(key.lower() in ("otp", "code") for key, _ in _values(body))
    assert not any(value == code for _, value in _values(body))

    assert validate(api, uuid_, code).status_code == 200
    verified = get(api, uuid_).json()
    assert verified["status"] == "verified"
    assert float(verified["charges"]["validation_charge"]) > 0


def test_list_sessions_has_meta_and_honours_limit_and_status(api, sandbox):
    verified = session_uuid(api, PHONE)
    second = session_uuid(api, OTHER)
    third = session_uuid(api, THIRD)
    assert validate(api, verified, sandbox.code_for(PHONE)).status_code == 200

    everything = api.get(SESSIONS)
    assert everything.status_code == 200
    body = everything.json()
    assert set(body) == {"api_id", "meta", "sessions"}
    assert body["meta"]["limit"] == 20 and body["meta"]["offset"] == 0
    assert body["meta"]["next"] is None and body["meta"]["previous"] is None
    assert {s["session_uuid"] for s in body["sessions"]} == {verified, second, third}
    assert all("status" in s and "recipient" in s for s in body["sessions"])

    page = api.get(SESSIONS, params={"limit": 2}).json()
    assert len(page["sessions"]) == 2
    assert page["meta"]["limit"] == 2
    assert "offset=2" in page["meta"]["next"]
    rest = api.get(SESSIONS, params={"limit": 2, "offset": 2}).json()
    assert len(rest["sessions"]) == 1
    assert rest["meta"]["previous"] is not None
    paged = {s["session_uuid"] for s in page["sessions"] + rest["sessions"]}
    assert paged == {verified, second, third}

    only_verified = api.get(SESSIONS, params={"status": "verified"}).json()["sessions"]
    assert [s["session_uuid"] for s in only_verified] == [verified]
    in_progress = api.get(SESSIONS, params={"status": "in-progress"}).json()["sessions"]
    assert {s["session_uuid"] for s in in_progress} == {second, third}
    by_recipient = api.get(SESSIONS, params={"recipient": OTHER}).json()["sessions"]
    assert [s["session_uuid"] for s in by_recipient] == [second]


def test_list_shows_expired_sessions_as_expired(api, sandbox, clock):
    uuid_ = session_uuid(api)
    clock.advance(sandbox.store.expiry_seconds + 1)
    expired = api.get(SESSIONS, params={"status": "expired"}).json()["sessions"]
    assert [s["session_uuid"] for s in expired] == [uuid_]
    assert api.get(SESSIONS, params={"status": "in-progress"}).json()["sessions"] == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 21}, {"limit": "x"}, {"offset": -1}])
def test_list_with_bad_paging_is_400(api, params):
    assert_error(api.get(SESSIONS, params=params), 400)


def test_outbox_lists_messages_newest_first(api, sandbox):
    session_uuid(api, PHONE, channel="sms")
    session_uuid(api, OTHER, channel="sms")
    session_uuid(api, PHONE, channel="voice")

    response = httpx.get(f"{sandbox.base_url}/sandbox/messages", params={"recipient": PHONE}, timeout=5)
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [m["channel"] for m in messages] == ["voice", "sms"]
    for message in messages:
        assert set(message) >= {"recipient", "channel", "code", "text", "time"}
        assert message["recipient"] == PHONE
        assert message["code"] == sandbox.code_for(PHONE)
    assert messages[1]["code"] in messages[1]["text"]
    assert messages[0]["time"] >= messages[1]["time"]

    # The same filter without the plus, or with a raw "+" (which a query string turns into a space).
    bare = httpx.get(f"{sandbox.base_url}/sandbox/messages?recipient={PHONE.lstrip('+')}", timeout=5)
    raw = httpx.get(f"{sandbox.base_url}/sandbox/messages?recipient={PHONE}", timeout=5)
    assert bare.json()["messages"] == messages
    assert raw.json()["messages"] == messages

    everyone = httpx.get(f"{sandbox.base_url}/sandbox/messages", timeout=5).json()["messages"]
    assert [m["recipient"] for m in everyone] == [PHONE, OTHER, PHONE]


def test_expire_hook_expires_the_live_session(api, sandbox):
    uuid_ = session_uuid(api)
    other = session_uuid(api, OTHER)
    code = sandbox.code_for(PHONE)

    response = httpx.post(f"{sandbox.base_url}/sandbox/expire", json={"recipient": PHONE}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"expired": 1}
    assert get(api, uuid_).json()["status"] == "expired"
    assert_error(validate(api, uuid_, code), 400)
    assert get(api, other).json()["status"] == "in-progress"

    again = httpx.post(f"{sandbox.base_url}/sandbox/expire", json={"recipient": PHONE}, timeout=5)
    assert again.json() == {"expired": 0}
    assert session_uuid(api) != uuid_


@pytest.mark.parametrize("body", [{}, {"recipient": "abc"}, {"recipient": 14155552671}])
def test_expire_hook_refuses_a_bad_recipient(sandbox, body):
    response = httpx.post(f"{sandbox.base_url}/sandbox/expire", json=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]


def test_every_error_body_has_api_id_and_error(api, sandbox):
    uuid_ = session_uuid(api)
    [wrong] = wrong_codes(sandbox.code_for(PHONE), 1)
    json_headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=sandbox.base_url, auth=(SANDBOX_AUTH_ID, "bad"), timeout=5) as bad:
        responses = {
            401: [bad.post(SESSIONS, json={"recipient": PHONE}), bad.get(SESSIONS)],
            400: [
                create(api, "nope"),
                create(api, channel="whatsapp"),
                create(api, code_length=9),
                api.post(SESSIONS, content=b"{", headers=json_headers),
                validate(api, uuid_, wrong),
                api.get(SESSIONS, params={"limit": 50}),
            ],
            404: [get(api, str(uuid.uuid4())), validate(api, str(uuid.uuid4()), wrong)],
            413: [api.post(SESSIONS, content=b" " * 20_000, headers=json_headers)],
        }
    api_ids = set()
    for status, answers in responses.items():
        for response in answers:
            api_ids.add(assert_error(response, status)["api_id"])
    assert len(api_ids) == sum(len(answers) for answers in responses.values())  # one id per request
