"""Structured logging: every line the process writes through `logging` is one JSON object.

Our security events are `{"ts", "level", "event", ...fields}`. Callers pass
numbers through `phone.mask` first; codes, tokens and credentials are never
passed in.

Every other library's record (Reflex, Socket.IO, uvicorn, granian, asyncio)
goes into its own envelope, `{"ts", "level", "event": "foreign", "logger",
"message", "error"?, "where"?}`, on the same stream. A client can put text
into those records (Reflex logs a malformed socket event verbatim), so:

- escaped: JSON encoding turns CR/LF into `\\n`, so no foreign text can start a
  line of its own that looks like one of our events;
- scrubbed: UUIDs (Reflex client tokens, verification ids), opaque tokens
  (sessions, tickets, socket ids), runs of 4+ digits (codes, numbers) and the
  values of secret-looking keys (`password`, `otp`, `token`, ...) become
  `[redacted]`; a foreign message is cut at 500 characters, and a traceback
  becomes its exception and the innermost frame;
- bounded: warnings and errors of one kind (logger, the start of the message,
  the exception type) pass at most `BURST` at once and then one per
  `REFILL_SECONDS`; the next one that passes carries `"suppressed": n`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import traceback
from collections import OrderedDict
from typing import Any

LOGGER_NAME = "plivo_otp_app"
logger = logging.getLogger(LOGGER_NAME)

FOREIGN_MESSAGE_MAX = 500
BURST = 2
REFILL_SECONDS = 60.0
_MAX_KINDS = 1024
#: Libraries that add their own stderr handler when their logger has no level yet.
_SELF_HANDLING_LOGGERS = ("engineio.server", "socketio.server", "engineio.client", "socketio.client")

REDACTED = "[redacted]"
_SECRETS = re.compile(
    r"""(?ix)
    (?P<key>[\w-]*(?:password|passwd|secret|token|ticket|otp|code|session|cookie|authorization)[\w-]*)
    (?P<sep>['"]?\s*[:=]\s*)
    (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^'",;}&\s]+)
    """
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
#: Opaque tokens: 20+ URL-safe characters with at least one digit and one letter (not words or paths).
_OPAQUE = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}(?![\w-])")
_DIGITS = re.compile(r"\d{4,}")


def scrub(text: str) -> str:
    """`text` with secrets, tokens, ids and digit runs replaced by `[redacted]`."""
    text = _SECRETS.sub(_redact_value, text)
    text = _UUID.sub(REDACTED, text)
    text = _OPAQUE.sub(REDACTED, text)
    return _DIGITS.sub(REDACTED, text)


def _redact_value(match: re.Match[str]) -> str:
    quote = match["value"][0] if match["value"][0] in "'\"" else ""
    return f"{match['key']}{match['sep']}{quote}{REDACTED}{quote}"


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str, ensure_ascii=True)


class JsonFormatter(logging.Formatter):
    """Render a record made by `event()` as a single JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        return _dumps(payload)


class ForeignFormatter(logging.Formatter):
    """Render another library's record as one escaped, scrubbed JSON envelope."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit its format
            message = str(record.msg)
        payload: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "event": "foreign",
            "logger": record.name,
            "message": scrub(message[:FOREIGN_MESSAGE_MAX]),
        }
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            payload["error"] = scrub(f"{type(exc).__name__}: {exc}"[:FOREIGN_MESSAGE_MAX])
            frames = traceback.extract_tb(exc.__traceback__)
            if frames:
                payload["where"] = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"
        suppressed = getattr(record, "suppressed", 0)
        if suppressed:
            payload["suppressed"] = suppressed
        return _dumps(payload)


class _Bucket:
    __slots__ = ("dropped", "stamp", "tokens")

    def __init__(self, now: float) -> None:
        self.tokens, self.stamp, self.dropped = float(BURST), now, 0


class FloodFilter(logging.Filter):
    """A token bucket per kind of foreign warning or error; counts what it drops."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str, str], _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and not record.exc_info:
            return True
        key = _kind(record)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(now)
            self._buckets[key] = bucket  # most recent last; the oldest kinds are forgotten first
            while len(self._buckets) > _MAX_KINDS:
                self._buckets.popitem(last=False)
            bucket.tokens = min(BURST, bucket.tokens + (now - bucket.stamp) / REFILL_SECONDS)
            bucket.stamp = now
            if bucket.tokens < 1:
                bucket.dropped += 1
                return False
            bucket.tokens -= 1
            record.suppressed, bucket.dropped = bucket.dropped, 0
        return True


def _kind(record: logging.LogRecord) -> tuple[str, str, str]:
    """What makes two records "the same": never the client-chosen part of the message.

    A %-style record has a fixed template; a pre-formatted one (Reflex's f-strings)
    only its first two words, since client text may follow them.
    """
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    start = template[:64] if record.args else " ".join(re.findall(r"[A-Za-z]+", template[:64])[:2])
    error = type(record.exc_info[1]).__name__ if record.exc_info and record.exc_info[1] else ""
    return record.name, start, error


class _Foreign(logging.Handler):
    """Writes foreign records to stderr as envelopes, once each, flood-limited."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(ForeignFormatter())
        self.addFilter(FloodFilter())

    def handle(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_otp_written", False) or record.name.split(".")[0] == LOGGER_NAME:
            return False
        record._otp_written = True
        return bool(super().handle(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


class _Redirect(logging.Filter):
    """Put on another library's terminal handler: the record goes to our envelope instead."""

    def __init__(self, sink: _Foreign) -> None:
        super().__init__()
        self.sink = sink

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.sink.level:
            self.sink.handle(record)
        return False


_FOREIGN = _Foreign()
_REDIRECT = _Redirect(_FOREIGN)


def configure(level: str) -> None:
    """Attach the JSON handlers once and capture foreign records; later calls only change the level."""
    logger.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False  # one line per event, not again through the root logger
    capture_foreign()


def capture_foreign() -> None:
    """Route every library's records to the JSON envelope on stderr.

    Called by `configure()`, and again when the app starts serving (a server such
    as granian sets up its loggers after the app module is imported). Idempotent.
    """
    root = logging.getLogger()
    if _FOREIGN not in root.handlers:
        root.addHandler(_FOREIGN)
    for name in _SELF_HANDLING_LOGGERS:
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            library.setLevel(logging.WARNING)  # set a level, so it adds no stderr handler of its own
    known = logging.root.manager.loggerDict.values()
    loggers = [root, *(each for each in known if isinstance(each, logging.Logger))]
    for each in loggers:
        if each.name.split(".")[0] == LOGGER_NAME:
            continue
        for handler in each.handlers:
            if handler is not _FOREIGN and _is_terminal_sink(handler) and _REDIRECT not in handler.filters:
                handler.addFilter(_REDIRECT)


def _is_terminal_sink(handler: logging.Handler) -> bool:
    """A handler that writes to the process's stdout or stderr (Reflex's console and JSON sinks too)."""
    if isinstance(handler, logging.FileHandler):
        return False
    if isinstance(handler, logging.StreamHandler):
        return handler.stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return type(handler).__module__.startswith(("reflex", "granian", "uvicorn"))


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one security event with its fields."""
    logger.log(level, name, extra={"fields": fields})
