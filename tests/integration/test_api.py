"""The JSON API's contract, over real HTTP: uvicorn on loopback, the real service and the sandbox.

Each test serves `build_api(lambda: service)` on a free port and talks to it
with `httpx`; the service calls the sandbox through the real Plivo SDK and
stores verifications in a fresh SQLite database. Nothing of ours is mocked.
Covers the statuses of the contract (200, 400, 405, 413, 415, 429, 503), the
single use of a code (BND-03, BND-06), one generic error for dead
verifications (ENUM-03) and the methods and content types refused (INP-04).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import free_port, serve

from plivo_otp_app.api import build_api
from plivo_otp_app.jsonhttp import MAX_BODY_BYTES

MOBILE = "+14155552671"  # US, fixed-line-or-mobile: may get an SMS
GB_LANDLINE = "+442079460958"  # UK fixed line (Ofcom drama range): voice only
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PARALLEL = 20
HTTP_TIMEOUT = httpx.Timeout(15.0)

Api = Callable[..., httpx.Client]


@pytest.fixture
def make_api(make_service) -> Iterator[Api]:
    """Serve the API on a real service built with `env` overrides; returns a client for it."""
    servers = []
    clients: list[httpx.Client] = []

    def make(**env: str) -> httpx.Client:
        service = make_service(**env)
        port = free_port()
        servers.append(serve(build_api(lambda: service), port))
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.should_exit = True


@pytest.fixture
def api(make_api: Api) -> httpx.Client:
    """A client of the API on a service with the default settings."""
    return make_api()


def send(client: httpx.Client, recipient: str = MOBILE, channel: str = "sms", **extra: str) -> httpx.Response:
    return client.post("/api/otp/send", json={"recipient": recipient, "channel": channel, **extra})


def verify(client: httpx.Client, session_uuid: str, otp: str) -> httpx.Response:
    return client.post("/api/otp/verify", json={"session_uuid": session_uuid, "otp": otp})


def started(client: httpx.Client, recipient: str = MOBILE) -> str:
    """Send a code and return the session uuid."""
    response = send(client, recipient)
    assert response.status_code == 200, response.text
    return response.json()["session_uuid"]


def wrong_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def assert_error(response: httpx.Response, status: int) -> dict:
    """The response has `status`, a JSON object with an error sentence, and no-store."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("cache-control") == "no-store"
    body = response.json()
    assert isinstance(body.get("error"), str)
    assert body["error"].strip()
    return body


def test_health_answers_ok(api):
    response = api.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_send_then_verify_with_the_delivered_code(api, sandbox):
    response = send(api, "(415) 555-2671", country="US")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert UUID_PATTERN.fullmatch(body["session_uuid"])
    assert body["recipient"] == MOBILE
    assert isinstance(body["expires_in"], int)
    assert 0 < body["expires_in"] <= 300
    assert isinstance(body["resend_after"], int)
    assert body["resend_after"] > 0

    checked = verify(api, body["session_uuid"], sandbox.code_for(MOBILE))
    assert checked.status_code == 200, checked.text
    assert checked.json()["verified"] is True
    assert checked.headers["cache-control"] == "no-store"


def test_voice_channel_is_accepted(api, sandbox):
    response = send(api, MOBILE, "voice")
    assert response.status_code == 200, response.text
    assert response.json()["channel"] == "voice"
    assert sandbox.store.messages(MOBILE)[0].channel == "voice"


def test_wrong_code_leaves_four_attempts(api, sandbox):
    session_uuid = started(api)
    body = assert_error(verify(api, session_uuid, wrong_code(sandbox.code_for(MOBILE))), 400)
    assert body["verified"] is False
    assert body["attempts_left"] == 4


def test_five_wrong_codes_lock_out_even_the_right_one(api, sandbox):
    session_uuid = started(api)
    code = sandbox.code_for(MOBILE)
    left = [verify(api, session_uuid, wrong_code(code)).json()["attempts_left"] for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    body = assert_error(verify(api, session_uuid, code), 400)
    assert body["verified"] is False
    assert body["attempts_left"] == 0


def test_verify_with_an_unknown_session_is_400(api):
    body = assert_error(verify(api, "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b", "123456"), 400)
    assert body["verified"] is False
    assert body["attempts_left"] == 0


def test_dead_verifications_share_one_error(api, sandbox, clock):
    """ENUM-03: unknown, malformed, already used and expired sessions answer the same."""
    used = started(api)
    assert verify(api, used, sandbox.code_for(MOBILE)).status_code == 200
    expiring = started(api, "+14155552672")
    code = sandbox.code_for("+14155552672")
    clock.advance(301)
    answers = [
        verify(api, "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b", "123456"),
        verify(api, "not-a-session", "123456"),
        verify(api, used, "123456"),
        verify(api, expiring, code),
    ]
    bodies = [assert_error(response, 400) for response in answers]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["verified"] is False


def test_replayed_verify_is_refused(api, sandbox):
    """BND-06: the same successful request sent again gets a 400."""
    payload = {"session_uuid": started(api), "otp": sandbox.code_for(MOBILE)}
    assert api.post("/api/otp/verify", json=payload).status_code == 200
    replay = assert_error(api.post("/api/otp/verify", json=payload), 400)
    assert replay["verified"] is False


def test_twenty_parallel_right_codes_verify_once(api, sandbox):
    """BND-03: 20 clients submit the right code at the same moment; exactly one succeeds."""
    session_uuid = started(api)
    payload = {"session_uuid": session_uuid, "otp": sandbox.code_for(MOBILE)}
    barrier = threading.Barrier(PARALLEL, timeout=10)

    def submit(_: int) -> int:
        with httpx.Client(base_url=api.base_url, timeout=HTTP_TIMEOUT) as client:
            barrier.wait()
            return client.post("/api/otp/verify", json=payload).status_code

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        statuses = list(pool.map(submit, range(PARALLEL), timeout=30))
    assert sorted(statuses) == [200] + [400] * (PARALLEL - 1)


def test_landline_by_sms_is_refused_with_advice_but_voice_works(api, sandbox):
    body = assert_error(send(api, GB_LANDLINE, "sms"), 400)
    assert "landline" in body["error"].lower()
    assert "voice" in body["error"].lower()
    assert sandbox.store.messages(GB_LANDLINE) == []

    response = send(api, GB_LANDLINE, "voice")
    assert response.status_code == 200, response.text
    assert response.json()["recipient"] == GB_LANDLINE


@pytest.mark.parametrize(
    ("recipient", "status"),
    [
        ("+12025550100", 400),  # Plivo refuses the number
        ("+12025550101", 400),  # geo-permission block
        ("+12025550102", 503),  # Plivo rate limits us
        ("+12025550103", 503),  # Plivo server error
        ("+12025550104", 503),  # Plivo hangs past the read timeout
    ],
)
def test_provider_faults_map_to_400_or_503(api, recipient, status):
    start = time.monotonic()
    body = assert_error(send(api, recipient), status)
    assert time.monotonic() - start < 10
    assert "session_uuid" not in body


def test_resend_waits_for_the_cooldown_then_redelivers(api, sandbox, clock):
    session_uuid = started(api)
    early = api.post("/api/otp/resend", json={"session_uuid": session_uuid})
    assert_error(early, 429)
    assert int(early.headers["retry-after"]) > 0

    clock.advance(31)
    response = api.post("/api/otp/resend", json={"session_uuid": session_uuid, "channel": "voice"})
    assert response.status_code == 200, response.text
    assert response.json()["session_uuid"] == session_uuid
    assert len(sandbox.store.messages(MOBILE)) == 2


@pytest.mark.parametrize("path", ["/api/otp/send", "/api/otp/resend", "/api/otp/verify"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"])
def test_other_methods_on_post_routes_get_405_in_json(api, path, method):
    body = assert_error(api.request(method, path, json={}), 405)
    assert "POST" in body["error"]
    assert api.request(method, path).headers["allow"] == "POST"


def test_head_on_a_post_route_gets_405_with_allow(api):
    response = api.head("/api/otp/send")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "TRACE"])
def test_other_methods_on_health_get_405_in_json(api, method):
    response = api.request(method, "/api/health")
    assert_error(response, 405)
    assert response.headers["allow"] == "GET, HEAD"


def test_head_on_health_answers_like_get_without_a_body(api):
    response = api.head("/api/health")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx"],
)
@pytest.mark.parametrize("path", ["/api/otp/send", "/api/otp/verify"])
def test_non_json_content_type_is_415(api, sandbox, path, content_type):
    headers = {"content-type": content_type} if content_type else {}
    content = json.dumps({"recipient": MOBILE, "channel": "sms"}).encode()
    assert_error(api.post(path, content=content, headers=headers), 415)
    assert sandbox.store.messages(MOBILE) == []


def test_json_content_type_with_charset_is_accepted(api):
    content = json.dumps({"recipient": MOBILE}).encode()
    response = api.post(
        "/api/otp/send", content=content, headers={"content-type": "Application/JSON; charset=utf-8"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"recipient": }',
        b"not json",
        b"[]",
        b'"+14155552671"',
        b"null",
        b"NaN",
        b"\xff\xfe{\x00}\x00",
        b"\xef\xbb\xbf{}",
    ],
)
@pytest.mark.parametrize("path", ["/api/otp/send", "/api/otp/resend", "/api/otp/verify"])
def test_malformed_json_is_400(api, path, content):
    assert_error(api.post(path, content=content, headers={"content-type": "application/json"}), 400)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"channel": "sms"},
        {"recipient": None},
        {"recipient": 14155552671},
        {"recipient": [MOBILE]},
        {"recipient": MOBILE, "channel": "carrier-pigeon"},
        {"recipient": MOBILE, "channel": 1},
        {"recipient": MOBILE, "country": "XX"},
        {"recipient": MOBILE, "country": 1},
        {"recipient": "not a number"},
        {"recipient": "+1" + "5" * 50},
    ],
)
def test_bad_send_fields_are_400_with_a_message(api, sandbox, payload):
    assert_error(api.post("/api/otp/send", json=payload), 400)
    assert sandbox.store.messages(MOBILE) == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"otp": "123456"},
        {"session_uuid": 5, "otp": "123456"},
        {"session_uuid": "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b"},
        {"session_uuid": "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b", "otp": 123456},
        {"session_uuid": "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b", "otp": "12345"},
        {"session_uuid": "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b", "otp": "abcdef"},
    ],
)
def test_bad_verify_fields_are_400_with_a_message(api, payload):
    assert_error(api.post("/api/otp/verify", json=payload), 400)


def test_bad_code_format_costs_no_attempt(api, sandbox):
    session_uuid = started(api)
    assert_error(verify(api, session_uuid, "12"), 400)
    body = verify(api, session_uuid, wrong_code(sandbox.code_for(MOBILE))).json()
    assert body["attempts_left"] == 4


@pytest.mark.parametrize("path", ["/api/otp/send", "/api/otp/verify"])
def test_oversized_body_with_content_length_is_413(api, sandbox, path):
    content = json.dumps({"recipient": MOBILE, "pad": "x" * MAX_BODY_BYTES}).encode()
    response = api.post(path, content=content, headers={"content-type": "application/json"})
    assert "content-length" in response.request.headers
    assert_error(response, 413)
    assert sandbox.store.messages(MOBILE) == []


@pytest.mark.parametrize("path", ["/api/otp/send", "/api/otp/verify"])
def test_oversized_chunked_body_is_413(api, sandbox, path):
    content = json.dumps({"recipient": MOBILE, "pad": "x" * MAX_BODY_BYTES}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), 512):
            yield content[start : start + 512]

    response = api.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413)
    assert sandbox.store.messages(MOBILE) == []


def test_body_of_exactly_the_limit_is_read(api):
    payload = {"recipient": MOBILE, "pad": ""}
    padding = MAX_BODY_BYTES - len(json.dumps(payload).encode())
    content = json.dumps({**payload, "pad": "x" * padding}).encode()
    assert len(content) == MAX_BODY_BYTES
    response = api.post("/api/otp/send", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_send_limit_per_number_is_429_with_retry_after(make_api, sandbox):
    client = make_api(RATE_LIMIT_SEND_PER_NUMBER="2/minute")
    assert [send(client).status_code for _ in range(2)] == [200, 200]
    limited = send(client)
    body = assert_error(limited, 429)
    retry_after = limited.headers["retry-after"]
    assert retry_after.isdigit()
    assert 0 < int(retry_after) <= 60
    assert body["retry_after"] == int(retry_after)
    assert len(sandbox.store.messages(MOBILE)) == 2


def test_verify_limit_per_ip_is_429_with_retry_after(make_api):
    client = make_api(RATE_LIMIT_VERIFY_PER_IP="2/minute")
    unknown = "6b1f7e0a-8c2d-4e5f-9a1b-2c3d4e5f6a7b"
    assert [verify(client, unknown, "123456").status_code for _ in range(2)] == [400, 400]
    limited = verify(client, unknown, "123456")
    assert_error(limited, 429)
    assert limited.headers["retry-after"].isdigit()
    assert int(limited.headers["retry-after"]) > 0


def send_from(client: httpx.Client, number: str, forwarded_for: str) -> int:
    response = client.post(
        "/api/otp/send", json={"recipient": number}, headers={"x-forwarded-for": forwarded_for}
    )
    return response.status_code


def test_spoofed_forwarded_for_does_not_escape_the_ip_limit(make_api, sandbox, monkeypatch):
    """With no trusted proxy hops (Reflex's default), a client's X-Forwarded-For is ignored.

    uvicorn itself trusts X-Forwarded-For from loopback (FORWARDED_ALLOW_IPS), and
    these tests connect from loopback; trusting only an address nobody has puts
    the test client where an internet client is: not a proxy.
    """
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")
    client = make_api(RATE_LIMIT_SEND_PER_IP="2/minute")
    rng = random.Random(7)
    statuses = []
    for number in ("+14155552671", "+14155552672", "+14155552673"):
        hops = [f"198.51.100.{rng.randrange(1, 255)}" for _ in range(rng.randrange(1, 4))]
        statuses.append(send_from(client, number, ", ".join(hops)))
    assert statuses == [200, 200, 429]
    assert sandbox.store.messages("+14155552673") == []


def test_spoofed_hops_before_a_trusted_proxy_do_not_escape_the_ip_limit(make_api, sandbox):
    """Behind a trusted proxy that appends the peer, only the appended address counts."""
    client = make_api(RATE_LIMIT_SEND_PER_IP="2/minute")
    statuses = [
        send_from(client, number, f"198.51.100.{index}, 203.0.113.9")
        for index, number in enumerate(("+14155552671", "+14155552672", "+14155552673"))
    ]
    assert statuses == [200, 200, 429]
    assert send_from(client, "+14155552674", "203.0.113.10") == 200
