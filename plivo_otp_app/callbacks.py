"""`POST /api/plivo/status`: Plivo's delivery callbacks, checked, then stored once.

The URL Plivo is given at session create (`providers.plivo.callback_url`) is the URL every
callback is checked against, not the one the request arrived at (a proxy may rewrite
that). In order, every callback must be:

1. a form (`application/x-www-form-urlencoded`, at most `MAX_BODY_BYTES`, each field once);
2. signed: `X-Plivo-Signature-V3` and its nonce, checked with the SDK's
   `validate_v3_signature` over the URL, the nonce and every field, with the auth token
   (the sandbox's in sandbox mode); a V2 signature (`X-Plivo-Signature-V2`, which covers
   the URL and nonce only) is checked too where it is sent, and must match as well;
3. well formed: the session, attempt, channel and status it reports;
4. fresh: its signed `RequestTime` at most `PLIVO_CALLBACK_MAX_AGE_SECONDS` old and not
   more than `MAX_SKEW` ahead (Plivo signs no time of its own: this is the only one);
5. new: its V3 nonce never seen before (`otp_callback_nonce`, shared by every worker).

Then `DeliveryService.report` stores it; a retry of a status already stored answers 200
and changes nothing. Every refusal is a JSON error with its own `code`, and is logged
without the token, the signature or the number in clear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from plivo.exceptions import PlivoRestError
from plivo.utils import validate_signature, validate_v3_signature
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import log, messages
from .blocking import run_blocking
from .jsonhttp import BadRequest, guarded_route, ok
from .providers.plivo import CALLBACK_PATH, callback_token, callback_url
from .services import Delivery, DeliveryService, Reported, get_delivery_service

MAX_BODY_BYTES = 4096
#: How far ahead of this server's clock a callback's `RequestTime` may be.
MAX_SKEW = timedelta(seconds=60)
_MAX_FIELDS = 32
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_STATUS = re.compile(r"[a-z][a-z -]{0,31}")
_ERROR_CODE = re.compile(r"[A-Za-z0-9 ._-]{0,48}")
_NONCE = re.compile(r"[\x21-\x7e]{1,64}")
_RECIPIENT = re.compile(r"\+?[0-9]{8,15}")


def _refuse(status: int, code: str, message: str, reason: str) -> BadRequest:
    log.event("callback_refused", logging.WARNING, reason=reason)
    return BadRequest(status, code, message)


async def _form(request: Request) -> dict[str, str]:
    """The body as a form of distinct fields, or the refusal that says why not."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _refuse(415, "unsupported_media_type", messages.CALLBACK_NOT_FORM, "not a form")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _refuse(413, "body_too_large", messages.BODY_TOO_LARGE, "too large")
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > MAX_BODY_BYTES:
                raise _refuse(413, "body_too_large", messages.BODY_TOO_LARGE, "too large")
    except ClientDisconnect:
        raise _refuse(400, "invalid_form", messages.BODY_CUT_OFF, "cut off") from None
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(raw),
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError too
        raise _refuse(400, "invalid_form", messages.CALLBACK_FORM_INVALID, "not a form") from None
    form = dict(pairs)
    if len(form) != len(pairs):  # a field twice: which of them was signed is a guess
        raise _refuse(400, "invalid_form", messages.CALLBACK_FORM_INVALID, "field twice")
    return form


def _signed(request: Request, url: str, form: dict[str, str], token: str) -> str:
    """The V3 nonce of a callback whose signatures all match; else the refusal."""
    headers = request.headers
    v3, nonce = headers.get("x-plivo-signature-v3"), headers.get("x-plivo-signature-v3-nonce")
    if not v3 or not nonce:
        raise _refuse(401, "unsigned", messages.CALLBACK_UNSIGNED, "unsigned")
    if not _NONCE.fullmatch(nonce):
        raise _refuse(400, "invalid_input", messages.field_invalid("X-Plivo-Signature-V3-Nonce"), "bad nonce")
    try:
        good = validate_v3_signature("POST", url, nonce, token, v3, params=dict(form))
        v2, v2_nonce = headers.get("x-plivo-signature-v2"), headers.get("x-plivo-signature-v2-nonce")
        if good and (v2 is not None or v2_nonce is not None):
            good = bool(v2 and v2_nonce and validate_signature(url, v2_nonce, v2, token))
    except (PlivoRestError, ValueError, TypeError):
        good = False
    if not good:
        raise _refuse(403, "bad_signature", messages.CALLBACK_SIGNATURE_WRONG, "signature")
    return nonce


def _field(form: dict[str, str], name: str, pattern: re.Pattern[str], required: bool = True) -> str:
    value = form.get(name, "").strip()
    if not value and required:
        raise _refuse(400, "invalid_input", messages.field_required(name), f"no {name}")
    if value and not pattern.fullmatch(value):
        raise _refuse(400, "invalid_input", messages.field_invalid(name), f"bad {name}")
    return value


def request_time(text: str) -> datetime | None:
    """Plivo's `RequestTime` as an aware UTC time: ISO 8601 ("2026-12-01T20:45:00Z"), or
    "2026-12-01 20:45:00.123456 +0000 UTC" as Plivo's services write it; naive is UTC."""
    cleaned = text.strip().removesuffix(" UTC").replace(" +", "+").replace(" -", "-")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _delivery(form: dict[str, str]) -> Delivery:
    """The callback's report, each field checked."""
    channel = _field(form, "Channel", re.compile(r"sms|voice"))
    status = _field(form, "ChannelStatus", _STATUS).lower()
    recipient = _field(form, "Recipient", _RECIPIENT, required=False)
    sent = request_time(_field(form, "RequestTime", re.compile(r"[0-9][0-9 :.TZ+-]{9,39}(UTC)?")))
    if sent is None:
        raise _refuse(400, "invalid_input", messages.field_invalid("RequestTime"), "bad RequestTime")
    return Delivery(
        session_uuid=_field(form, "SessionUUID", _ID),
        attempt_uuid=_field(form, "AttemptUUID", _ID),
        channel=channel,
        status=status,
        error_code=_field(form, "ChannelErrorCode", _ERROR_CODE, required=False),
        recipient="+" + recipient.lstrip("+") if recipient else "",
        request_time=sent,
    )


def callback_routes(service: Callable[[], DeliveryService] = get_delivery_service) -> list[BaseRoute]:
    """The delivery callback's route."""

    async def status(request: Request) -> Response:
        deliveries = service()
        settings = deliveries.settings
        token = callback_token(settings)
        if token is None:
            raise _refuse(404, "not_found", messages.CALLBACKS_OFF, "no callbacks")
        form = await _form(request)
        nonce = _signed(request, callback_url(settings), form, token)
        delivery = _delivery(form)
        now = deliveries.clock()
        age = now - delivery.request_time
        if age > deliveries.max_age or -age > MAX_SKEW:
            raise _refuse(403, "stale", messages.CALLBACK_STALE, "stale")
        reported = await run_blocking(deliveries.report, delivery, nonce)
        if reported is Reported.REPLAYED:
            raise BadRequest(409, "replayed", messages.CALLBACK_REPLAYED)
        return ok({"recorded": reported is Reported.RECORDED})

    return [guarded_route(CALLBACK_PATH, "POST", status)]
