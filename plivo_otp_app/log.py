"""Structured security-event logging: one JSON line per event.

Callers pass numbers through `phone.mask` first; codes, tokens and credentials
are never passed in. JSON encoding also neutralises CR/LF in any field.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

LOGGER_NAME = "plivo_otp_app"
logger = logging.getLogger(LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """Render a record made by `event()` as a single JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        return json.dumps(payload, default=str, ensure_ascii=True)


def configure(level: str) -> None:
    """Attach the JSON handler once; later calls only change the level."""
    logger.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False  # one line per event, not again through the root logger


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one security event with its fields."""
    logger.log(level, name, extra={"fields": fields})
