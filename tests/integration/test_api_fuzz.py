"""Hostile bodies against the JSON API over real HTTP: never a 5xx, always a JSON answer.

Hypothesis generates raw bytes, text, arbitrary JSON (NaN, huge numbers,
nesting), objects with the right keys but any value types, and any content
type; the API runs in uvicorn on loopback on the real service and sandbox, with
limits high enough that a 429 never hides a crash (INP-03). A few hand-written
cases pin the classics: deep nesting, bad encodings, NUL, NaN, duplicate keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx
import pytest
from conftest import free_port, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reflex_base.environment import environment

from plivo_otp_app.api import build_api
from plivo_otp_app.config import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN
from plivo_otp_app.jsonhttp import MAX_BODY_BYTES

OTP_ROUTES = ("/api/otp/send", "/api/otp/resend", "/api/otp/verify")
AUTH_ROUTES = ("/api/auth/login", "/api/auth/login/verify", "/api/auth/login/resend", "/api/auth/logout")
ROUTES = OTP_ROUTES + AUTH_ROUTES
COOKIE_ROUTES = ("/api/session/complete", "/api/session/logout", "/api/session/browser")
HIGH_LIMITS = {
    "RATE_LIMIT_SEND_PER_IP": "100000/minute",
    "RATE_LIMIT_SEND_PER_NUMBER": "100000/minute",
    "RATE_LIMIT_SEND_PER_PREFIX": "100000/minute",
    "RATE_LIMIT_VERIFY_PER_IP": "100000/minute",
    "RATE_LIMIT_LOGIN_PER_IP": "100000/minute",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": "100000/minute",
}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
JSON = {"content-type": "application/json"}
VALID_NUMBERS = ("+14155552671", "(415) 555-2672", "+442079460958", "07400 123456", "+4915123456789")


def not_a_fault_number(text: str) -> bool:
    """Keep generated recipients away from the sandbox's fault numbers (+1 202 555 010x)."""
    return "202555010" not in re.sub(r"\D", "", text)


#: Any code point, lone surrogates and NUL included (`json.dumps` writes them as "\\ud800", "\\u0000").
any_text = st.text(st.characters(exclude_categories=()), max_size=50) | st.sampled_from(
    ["\ud800", "a\udfffb", "\x00", "al\x00ice", "x" * 3000, "\u202e", "a\r\nb"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**300), max_value=10**300)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
phone_like = (
    st.sampled_from(VALID_NUMBERS)
    | st.from_regex(r"\+?[0-9 ()\-.]{0,20}", fullmatch=True)
    | st.text(max_size=60)
).filter(not_a_fault_number)
recipients = phone_like | json_values.filter(lambda value: not isinstance(value, str))
channels = st.sampled_from(["sms", "voice", "SMS", "", "email"]) | json_values
countries = st.sampled_from(["US", "gb", "DE", "XX", "", "ZZZ"]) | json_values
codes = st.from_regex(r"[0-9]{4,8}", fullmatch=True) | json_values
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/json;;;",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    )
    | header_text
)


@pytest.fixture
def api(make_accounts, sandbox, monkeypatch) -> Iterator[httpx.Client]:
    """The API (OTP, login and cookie routes) on services whose limits never trigger, served as the
    one-port deployment serves them (so that a landing on this origin is a path)."""
    monkeypatch.setenv(environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.name, "true")
    accounts = make_accounts(**HIGH_LIMITS)
    server = serve(build_api(lambda: accounts.verifications, lambda: accounts), free_port())
    port = server.config.port
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(10.0)) as client:
        yield client
    server.should_exit = True


@pytest.fixture
def live_session(api) -> str:
    response = api.post("/api/otp/send", json={"recipient": "+14155559999"})
    assert response.status_code == 200, response.text
    return response.json()["session_uuid"]


def assert_handled(response: httpx.Response) -> dict:
    """No server error, and the answer is a JSON object; an error has a code and a sentence."""
    assert response.status_code < 500, (response.status_code, response.text, response.request.content[:200])
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code != 200:
        assert isinstance(body.get("code"), str) and body["code"], body
        assert isinstance(body.get("message"), str) and body["message"].strip(), body
        assert body.get("error") == body["message"]
    return body


def post(client: httpx.Client, path: str, content: bytes, headers: dict | None = None) -> dict:
    return assert_handled(client.post(path, content=content, headers=JSON if headers is None else headers))


def dumps(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@FUZZ
@given(path=st.sampled_from(ROUTES), content=st.binary(max_size=600))
def test_any_bytes_are_handled(api, path, content):
    post(api, path, content)


@FUZZ
@given(path=st.sampled_from(ROUTES), text=st.text(st.characters(exclude_categories=()), max_size=300))
def test_any_text_is_handled(api, path, text):
    post(api, path, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(path=st.sampled_from(ROUTES), value=json_values)
def test_any_json_value_is_handled(api, path, value):
    body = post(api, path, dumps(value))
    if not isinstance(value, dict):
        assert "error" in body


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"recipient": recipients},
        optional={"channel": channels, "country": countries, "extra": json_values},
    )
)
def test_send_with_any_field_types_is_handled(api, body):
    answer = post(api, "/api/otp/send", dumps(body))
    if "session_uuid" in answer:
        assert isinstance(body["recipient"], str)
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", answer["recipient"])


@FUZZ
@given(
    session=st.sampled_from(["live", "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b"]) | json_values,
    otp=codes,
    channel=channels,
)
def test_verify_and_resend_with_any_field_types_are_handled(api, live_session, session, otp, channel):
    session_uuid = live_session if session == "live" else session
    post(api, "/api/otp/verify", dumps({"session_uuid": session_uuid, "otp": otp}))
    post(api, "/api/otp/resend", dumps({"session_uuid": session_uuid, "channel": channel}))


@FUZZ
@given(
    path=st.sampled_from(ROUTES),
    content_type=st.none() | content_types,
    content=st.sampled_from([b'{"recipient": "+14155552671"}', b"{}", b"", b"recipient=%2B14155552671"]),
)
def test_any_content_type_is_handled(api, path, content_type, content):
    headers = {} if content_type is None else {"content-type": content_type}
    response = api.post(path, content=content, headers=headers)
    assert_handled(response)
    if content_type is None or content_type.split(";")[0].strip().lower() != "application/json":
        assert response.status_code == 415


HOSTILE = [
    pytest.param(b"[" * 2000 + b"]" * 2000, id="2000-nested-arrays"),
    pytest.param(b"[" * MAX_BODY_BYTES, id="unclosed-arrays-at-the-cap"),
    pytest.param(b'{"a":' * 600 + b"1" + b"}" * 600, id="600-nested-objects"),
    pytest.param(b'{"recipient": "\xff\xfe\xfd"}', id="invalid-utf8"),
    pytest.param(b'{"recipient": "\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
    pytest.param('{"recipient": "+14155552671"}'.encode("utf-16"), id="utf16-with-bom"),
    pytest.param(b'\xef\xbb\xbf{"recipient": "+14155552671"}', id="utf8-bom"),
    pytest.param(b'{"recipient": "\\u0000"}', id="escaped-nul"),
    pytest.param(b'{"recipient": "\x00"}', id="raw-nul"),
    pytest.param(
        b'{"recipient": "\\ud800", "session_uuid": "\\udfff", "otp": "\\ud800"}', id="lone-surrogates"
    ),
    pytest.param(b'{"username": "\\ud800", "password": "\\ud800"}', id="surrogate-login"),
    pytest.param(b'{"username": "a\\u0000", "password": "p\\u0000"}', id="nul-login"),
    pytest.param(b'{"login_token": "\\ud800", "otp": "\\udfff"}', id="surrogate-login-code"),
    pytest.param(b'{"login_token": "\\u0000", "backup_code": "\\ud800"}', id="surrogate-backup-code"),
    pytest.param(b"NaN", id="nan"),
    pytest.param(b"-Infinity", id="infinity"),
    pytest.param(b'{"recipient": NaN, "session_uuid": Infinity, "otp": -Infinity}', id="nan-fields"),
    pytest.param(b'{"recipient": 1' + b"0" * 4000 + b"}", id="4000-digit-int"),
    pytest.param(b'{"otp": 1e999, "session_uuid": 1e999}', id="overflowing-float"),
    pytest.param(b'{"recipient": 1, "recipient": "+14155552671"}', id="duplicate-keys"),
    pytest.param(b'{"recipient": "+14155552671", "recipient": []}', id="duplicate-keys-bad-last"),
    pytest.param(b'[{"recipient": "+14155552671"}]', id="array-of-object"),
    pytest.param(b'{"recipient": "+1' + b"5" * 4000 + b'"}', id="4000-char-recipient"),
    pytest.param(b'{"recipient": "' + "\u0661".encode() * 10 + b'"}', id="arabic-indic-digits"),
    pytest.param(b'{"otp": "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6"}', id="arabic-indic-otp"),
]


@pytest.mark.parametrize("content", HOSTILE)
@pytest.mark.parametrize("path", ROUTES)
def test_hostile_body_is_answered_in_json(api, path, content):
    assert len(content) <= MAX_BODY_BYTES
    post(api, path, content)


@pytest.mark.parametrize("path", ROUTES)
def test_invalid_utf8_and_nesting_are_400(api, path):
    for content in (b"[" * 2000 + b"]" * 2000, b'{"recipient": "\xff"}', "{}".encode("utf-16"), b"NaN"):
        response = api.post(path, content=content, headers=JSON)
        assert response.status_code == 400, (content[:20], response.text)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_hundred_thousand_nested_arrays_are_413(api, path, chunked):
    content = b"[" * 100_000

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), 1024):
            yield content[start : start + 1024]

    response = api.post(path, content=chunks() if chunked else content, headers=JSON)
    assert response.status_code == 413
    assert_handled(response)


def test_recipient_of_4096_bytes_is_413(api):
    response = api.post("/api/otp/send", content=dumps({"recipient": "1" * MAX_BODY_BYTES}), headers=JSON)
    assert response.status_code == 413
    assert_handled(response)


@pytest.mark.parametrize(
    "forwarded_for",
    [b"not-an-ip", b"fe80::1%eth0", b"1.2.3.4:80", b"[::1]:99999", b"\xff\xfe", b", , ,", b"9" * 3000],
)
def test_hostile_forwarded_for_is_handled(api, forwarded_for):
    """uvicorn trusts X-Forwarded-For from loopback, so these reach the app as the client address."""
    response = api.post(
        "/api/otp/send", json={"recipient": "+14155552671"}, headers={"x-forwarded-for": forwarded_for}
    )
    assert response.status_code == 200, response.text


@FUZZ
@given(username=json_values | any_text, password=json_values | any_text)
def test_login_with_any_field_types_is_handled(api, username, password):
    post(api, "/api/auth/login", dumps({"username": username, "password": password}))


@FUZZ
@given(
    token=json_values | any_text,
    code=st.none() | codes | any_text,
    backup=st.none() | json_values | any_text,
    channel=channels,
)
def test_login_code_steps_with_any_field_types_are_handled(api, token, code, backup, channel):
    post(api, "/api/auth/login/verify", dumps({"login_token": token, "otp": code, "backup_code": backup}))
    post(api, "/api/auth/login/resend", dumps({"login_token": token, "channel": channel}))


MALFORMED_LINKS = ["http://[::1", "http://[", "//[", "http://[x]/", "https://[::1]:99999/", "http://%00/"]
query_values = (
    st.sampled_from([*MALFORMED_LINKS, "/account", "//evil.example", "javascript:alert(1)", ""])
    | st.binary(max_size=80).map(quote_from_bytes)
    | st.sampled_from(["http%3A%2F%2F%5B%3A%3A1", "%ED%A0%80", "%00", "%2F%2Fevil.example"])
)


@FUZZ
@given(
    path=st.sampled_from(COOKIE_ROUTES),
    params=st.dictionaries(st.sampled_from(["next", "fail", "ticket"]), query_values, max_size=3),
    cookie=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
)
def test_cookie_routes_with_any_query_are_handled(api, path, params, cookie):
    """Never a 5xx; a redirect only to this host; every refusal a JSON error with a code."""
    query = "&".join(f"{name}={value}" for name, value in params.items())
    headers = {"cookie": f"otp_session={cookie}"} if cookie is not None else {}
    response = api.get(f"{path}?{query}", headers=headers)
    if response.status_code == 303:
        location = response.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
    else:
        assert_handled(response)


SANDBOX_SESSIONS = f"/v1/Account/{SANDBOX_AUTH_ID}/Verify/Session/"
SANDBOX_POSTS = (
    SANDBOX_SESSIONS,
    f"{SANDBOX_SESSIONS}6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b/",
    f"/v1/Account/{SANDBOX_AUTH_ID}/Message/",
    "/sandbox/expire",
)


@pytest.fixture
def sandbox_client(sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url, auth=(SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN), timeout=10
    ) as client:
        yield client


def assert_sandbox_handled(response: httpx.Response) -> None:
    """The sandbox mimics Plivo: never a 5xx of its own, errors as `{"error": ...}`."""
    assert response.status_code < 500, (response.status_code, response.text, response.request.content[:200])
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code >= 400:
        assert isinstance(body.get("error"), str) and body["error"]


@FUZZ
@given(
    path=st.sampled_from(SANDBOX_POSTS),
    value=json_values
    | st.fixed_dictionaries(
        {"recipient": recipients, "dst": recipients},
        optional={"channel": channels, "code_length": json_values, "otp": codes, "text": json_values},
    ),
)
def test_sandbox_with_any_json_is_handled(sandbox_client, path, value):
    assert_sandbox_handled(sandbox_client.post(path, content=dumps(value), headers=JSON))


@FUZZ
@given(path=st.sampled_from(SANDBOX_POSTS), content=st.binary(max_size=600))
def test_sandbox_with_any_bytes_is_handled(sandbox_client, path, content):
    assert_sandbox_handled(sandbox_client.post(path, content=content, headers=JSON))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "offset", "status", "recipient", "app_uuid"]), any_text, max_size=4
    ).map(lambda d: {k: v.encode("utf-8", "surrogatepass") for k, v in d.items()})
)
def test_sandbox_listings_with_any_query_are_handled(sandbox_client, params):
    query = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in params.items())
    assert_sandbox_handled(sandbox_client.get(f"{SANDBOX_SESSIONS}?{query}"))
    assert_sandbox_handled(sandbox_client.get(f"/sandbox/messages?{query}"))


@pytest.mark.parametrize("path", SANDBOX_POSTS)
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[" * 8000 + b"]" * 8000, id="8000-nested-arrays"),
        pytest.param(b'{"a":' * 2500 + b"1" + b"}" * 2500, id="2500-nested-objects"),
        pytest.param(b'{"recipient": "\\ud800", "dst": "\\u0000", "text": "\\udfff"}', id="surrogates"),
    ],
)
def test_sandbox_deeply_nested_json_is_400(sandbox_client, path, content):
    response = sandbox_client.post(path, content=content, headers=JSON)
    assert_sandbox_handled(response)
    if content.startswith((b"[[", b'{"a":{')):
        assert response.status_code == 400
