"""The sandbox's HTTP face: Plivo Verify's paths, bodies and status codes, plus the outbox.

Mounted on the app's own backend only in sandbox mode, or served alone with
`python -m plivo_otp_app.sandbox`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import callbacks
from .faults import fault_for
from .store import SandboxError, SandboxStore, session_json

MAX_BODY_BYTES = 16 * 1024
Handler = Callable[[Request], Awaitable[JSONResponse]]


def _answer(status: int, /, **body: Any) -> JSONResponse:
    return JSONResponse({"api_id": str(uuid.uuid4()), **body}, status_code=status)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return _answer(status, error=message, **extra)


def _authorised(request: Request, auth_id: str, auth_token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (
        hmac.compare_digest(user.encode(), auth_id.encode())
        and hmac.compare_digest(password.encode(), auth_token.encode())
        and request.path_params.get("auth_id") == auth_id
    )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise SandboxError(413, "request body too large")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[...", nested too deep
        raise SandboxError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object")
    return body


def _recipient(value: object) -> str:
    digits = value.strip().removeprefix("+") if isinstance(value, str) else ""
    if not digits:
        raise SandboxError(400, "recipient is required")
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15):
        # Echoed as Plivo does, with what cannot be encoded (a lone surrogate) replaced.
        echo = str(value)[:32].encode("utf-8", "replace").decode("utf-8")
        raise SandboxError(400, "invalid recipient", invalid_number=echo)
    return digits


def _code_length(value: object) -> int | None:
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not isinstance(value, int | str) or not (text.isascii() and text.isdigit()):
        raise SandboxError(400, "code_length must be an integer between 4 and 8")
    length = int(text)
    if not 4 <= length <= 8:
        raise SandboxError(400, "code_length must be an integer between 4 and 8")
    return length


def build_routes(
    store: SandboxStore,
    auth_id: str,
    auth_token: str,
    hang_seconds: float = 10.0,
    callbacks_to: Callable[[str], bool] = callbacks.loopback_only,
) -> list[Route]:
    """The sandbox's routes, bound to one store and one set of credentials; delivery callbacks
    go to a session's `url` only where `callbacks_to` allows."""

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> JSONResponse:
            if not _authorised(request, auth_id, auth_token):
                return _error(401, "authentication failed")
            try:
                return await handler(request)
            except SandboxError as exc:
                return _error(exc.status, exc.message, **exc.extra)

        return endpoint

    async def sessions(request: Request) -> JSONResponse:
        if request.method == "GET":
            return _list(request, store)
        body = await _json_body(request)
        recipient = _recipient(body.get("recipient"))
        channel = body.get("channel") or "sms"
        if channel not in ("sms", "voice"):
            raise SandboxError(400, "channel must be sms or voice")
        fault = fault_for(recipient)
        if fault and fault.status:
            return _error(fault.status, fault.error)
        if fault and fault.hang:
            await asyncio.sleep(hang_seconds)
        session = store.create(
            recipient=recipient,
            channel=channel,
            app_uuid=body.get("app_uuid") if isinstance(body.get("app_uuid"), str) else None,
            code_length=_code_length(body.get("code_length")),
            locale=body.get("locale") if isinstance(body.get("locale"), str) else None,
            brand_name=body.get("brand_name") if isinstance(body.get("brand_name"), str) else None,
        )
        url = body.get("url")
        if isinstance(url, str) and body.get("method") != "GET" and callbacks_to(url):
            attempt = session.attempts[-1]
            callbacks.schedule(
                url, auth_token, session.session_uuid, attempt, len(session.attempts), recipient
            )
        return _answer(202, message="Session initiated", session_uuid=session.session_uuid)

    async def one_session(request: Request) -> JSONResponse:
        session_uuid = request.path_params["session_uuid"]
        if request.method == "GET":
            return _answer(200, **session_json(store.get(session_uuid)))
        body = await _json_body(request)
        otp = body.get("otp", body.get("OTP"))
        store.validate(session_uuid, otp if isinstance(otp, str) else None)
        return _answer(200, message="session validated successfully.", session_uuid=session_uuid)

    async def message(request: Request) -> JSONResponse:
        body = await _json_body(request)
        recipient = _recipient(body.get("dst"))
        text = body.get("text")
        if not isinstance(text, str) or not text or len(text) > 1600:
            raise SandboxError(400, "text is required")
        store.deliver(recipient, text)
        return _answer(202, message="message(s) queued", message_uuid=[str(uuid.uuid4())])

    base = "/v1/Account/{auth_id}/Verify/Session"
    return [
        Route("/v1/Account/{auth_id}/Message/", guarded(message), methods=["POST"]),
        Route(base + "/", guarded(sessions), methods=["GET", "POST"]),
        Route(base + "/{session_uuid}/", guarded(one_session), methods=["GET", "POST"]),
        *outbox_routes(store),
    ]


def outbox_routes(store: SandboxStore) -> list[Route]:
    """`GET /sandbox/messages` and the `POST /sandbox/expire` test hook."""

    async def messages(request: Request) -> JSONResponse:
        recipient = request.query_params.get("recipient")
        if recipient is not None:
            recipient = "+" + recipient.strip().lstrip("+")
        found = store.messages(recipient)
        return JSONResponse({"messages": [asdict(m) for m in found]})

    async def expire(request: Request) -> JSONResponse:
        try:
            body = await _json_body(request)
            recipient = _recipient(body.get("recipient"))
        except SandboxError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse({"expired": store.expire(recipient)})

    return [
        Route("/sandbox/messages", messages, methods=["GET"]),
        Route("/sandbox/expire", expire, methods=["POST"]),
    ]


def _list(request: Request, store: SandboxStore) -> JSONResponse:
    params = request.query_params
    try:
        limit = int(params.get("limit", "20"))
        offset = int(params.get("offset", "0"))
    except ValueError:
        raise SandboxError(400, "limit and offset must be integers") from None
    if not (0 < limit <= 20 and offset >= 0):
        raise SandboxError(400, "limit must be 1-20 and offset >= 0")
    found = [
        session_json(s)
        for s in store.sessions()
        if params.get("status") in (None, s.status)
        and params.get("recipient", s.recipient).lstrip("+") == s.recipient
        and params.get("app_uuid") in (None, s.app_uuid)
    ]
    page = found[offset : offset + limit]
    path = request.url.path
    more = offset + limit < len(found)
    return _answer(
        200,
        meta={
            "limit": limit,
            "offset": offset,
            "next": f"{path}?limit={limit}&offset={offset + limit}" if more else None,
            "previous": f"{path}?limit={limit}&offset={max(0, offset - limit)}" if offset else None,
        },
        sessions=page,
    )
