"""The log stream: our events and other libraries' records are one JSON object per line.

Another library's record may carry client text (Reflex logs a malformed socket
event verbatim): it must not be able to forge one of our lines, flood the
stream, or leak a token.
"""

from __future__ import annotations

import json
import logging
import sys

import pytest

from plivo_otp_app import log

FORGED = '{"level":"info","event":"login_ok","user_id":1}'


def _record(message: str, name: str = "reflex.app", level: int = logging.WARNING, exc: bool = False):
    exc_info = None
    if exc:
        try:
            raise ValueError(f"Failed to deserialize event data: {message}")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, level, __file__, 1, message, None, exc_info)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("send delta to disconnected client 'a18cd1b5-546e-4915-a0d1-0a025034ad73'", "a18cd1b5"),
        ("session token Ab3dEfGh1jKlMn0pQrStUvWxYz_-12345678901234", "Ab3dEfGh1jKlMn0p"),
        ("Event data: {'otp': '482915'}", "482915"),
        ("{'password': 'correct horse battery', 'x': 1}", "correct"),
        ("{'password': 'hunter2 correct horse', 'x': 1}", "horse"),
        ('{"password": "a \\" quoted \\" phrase"}', "phrase"),
        ("cookie otp_session=QWxhZGRpbjpvcGVuIHNlc2FtZQ; path=/", "QWxhZGRpbjpv"),
        ("/api/session/complete?ticket=abcDEF123ghiJKL456mnoPQR789&fail=%2F", "abcDEF123"),
        ("recipient +14155552671", "4155552671"),
    ],
)
def test_secrets_are_scrubbed(text, secret):
    scrubbed = log.scrub(text)
    assert secret not in scrubbed and log.REDACTED in scrubbed, scrubbed


def test_plain_words_and_state_names_stay_readable():
    text = "Received event data as a string. reflex___state____state.plivo_otp_app___state___verify"
    assert log.scrub(text) == text


def test_a_foreign_message_with_a_newline_stays_one_escaped_line():
    line = log.ForeignFormatter().format(_record(f"Event data: x\n{FORGED}", exc=True))
    assert "\n" not in line
    record = json.loads(line)
    assert record["event"] == "foreign" and record["logger"] == "reflex.app"
    assert FORGED in record["message"] and record["error"].startswith("ValueError: ")
    assert "test_log.py" in record["where"]


def test_a_foreign_message_is_cut():
    record = json.loads(log.ForeignFormatter().format(_record("x" * 100_000)))
    assert len(record["message"]) == log.FOREIGN_MESSAGE_MAX


def test_one_kind_of_warning_passes_a_burst_then_one_per_interval_with_a_count():
    now = [0.0]
    flood = log.FloodFilter(clock=lambda: now[0])
    # The client chooses the tail of the message: it is still one kind.
    passed = [flood.filter(_record(f"Event data: {i} {'y' * i}", exc=True)) for i in range(200)]
    assert sum(passed) == log.BURST
    now[0] += log.REFILL_SECONDS
    later = _record("Event data: again", exc=True)
    assert flood.filter(later)
    assert later.suppressed == 200 - log.BURST


def test_other_kinds_and_info_records_are_not_held_back_by_a_flood():
    flood = log.FloodFilter(clock=lambda: 0.0)
    for _ in range(100):
        flood.filter(_record("Event data: x", exc=True))
    assert flood.filter(_record("Token cleanup error", name="reflex.app"))
    access = [_record("GET /api/health 200", "uvicorn.access", logging.INFO) for _ in range(50)]
    assert all(flood.filter(record) for record in access)


def test_a_library_handler_on_stderr_writes_our_envelope_instead(capsys):
    """As Socket.IO or granian set up: a library logger with its own stderr handler."""
    library = logging.getLogger("some_library")
    handler = logging.StreamHandler(sys.stderr)
    library.addHandler(handler)
    try:
        log.capture_foreign()
        library.warning("Event data: x\n%s", FORGED)
    finally:
        library.removeHandler(handler)
        logging.getLogger().removeHandler(log._FOREIGN)
    lines = capsys.readouterr().err.splitlines()
    assert FORGED not in lines
    [record] = [json.loads(line) for line in lines]
    assert record["event"] == "foreign" and record["logger"] == "some_library"
