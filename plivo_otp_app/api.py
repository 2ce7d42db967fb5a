"""The JSON API beside the UI: the same service calls, answered as HTTP.

`POST /api/otp/send`, `POST /api/otp/resend`, `POST /api/otp/verify` and
`GET /api/health`, plus the sandbox's routes in sandbox mode. Mount with
`rx.App(api_transformer=build_api())`, or add `api_routes()` to your own app.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import log
from .config import get_settings
from .errors import (
    CodeRejected,
    InvalidInput,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
)
from .ratelimit import client_ip
from .sandbox import sandbox_routes
from .services import Checked, Started, VerificationService, get_verification_service

MAX_BODY_BYTES = 4096
ServiceFactory = Callable[[], VerificationService]
Handler = Callable[[Request, dict[str, Any], VerificationService], Awaitable[JSONResponse]]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 405:
        headers["Allow"] = extra.pop("allow")
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def _json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or `_BadRequest` with the right status."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _BadRequest(415, "Send the body as application/json.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _BadRequest(413, "The request body is too large.")
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > MAX_BODY_BYTES:
                raise _BadRequest(413, "The request body is too large.")
    except ClientDisconnect:
        raise _BadRequest(400, "The request body was cut off.") from None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadRequest(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _BadRequest(400, "The request body must be a JSON object.")
    return body


def _string_field(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        raise _BadRequest(400, f"The field '{name}' is required.")
    if not isinstance(value, str):
        raise _BadRequest(400, f"The field '{name}' must be a string.")
    return value


def _client_ip(request: Request) -> str:
    from reflex.config import get_config  # noqa: PLC0415 - Reflex's own proxy setting

    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), get_config().trusted_proxy_hops)


def _json_route(path: str, method: str, handler: Handler, service: ServiceFactory) -> Route:
    """A route that answers every method (405 in JSON) and maps every typed error."""

    allowed = (method, "HEAD") if method == "GET" else (method,)

    async def endpoint(request: Request) -> JSONResponse:
        if request.method not in allowed:
            return _error(405, f"Use {method} for {path}.", allow=", ".join(allowed))
        try:
            body = await _json_object(request) if method == "POST" else {}
            return await handler(request, body, service())
        except _BadRequest as exc:
            return _error(exc.status, exc.message)
        except OtpError as exc:
            return _otp_error(exc)

    # An ASGI app (not a function) with no method list: Starlette hands it every
    # method, so TRACE, PROPFIND, ... also get the JSON 405 and the right Allow.
    return Route(path, _AnyMethod(request_response(endpoint)))


class _AnyMethod:
    """Wraps an ASGI app so `Route` treats it as an app and lets every method through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _otp_error(exc: OtpError) -> JSONResponse:
    if isinstance(exc, RateLimited):
        response = _error(429, exc.user_message(), retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, CodeRejected):
        return _error(400, exc.user_message(), verified=False, attempts_left=exc.attempts_left)
    if isinstance(exc, (TooManyAttempts, VerificationExpired)):
        return _error(400, exc.user_message(), verified=False, attempts_left=0)
    return _error(exc.status, exc.user_message())


def _started(result: Started) -> JSONResponse:
    return _ok(
        {
            "session_uuid": result.verification_id,
            "recipient": result.e164,
            "channel": result.channel,
            "expires_in": result.expires_in,
            "resend_after": result.resend_after,
        }
    )


async def _send(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    recipient = _string_field(body, "recipient")
    channel = _string_field(body, "channel", "sms")
    country = _string_field(body, "country", service.settings.default_country)
    result = await run_in_threadpool(service.start, recipient, country, channel, _client_ip(request))
    return _started(result)


async def _resend(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    session_uuid = _string_field(body, "session_uuid")
    channel = _string_field(body, "channel", "sms")
    result = await run_in_threadpool(service.resend, session_uuid, channel, _client_ip(request))
    return _started(result)


async def _verify(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    session_uuid = _string_field(body, "session_uuid")
    otp = body.get("otp")
    if not isinstance(otp, str):
        raise InvalidInput("The field 'otp' is required, as a string of digits.")
    result: Checked = await run_in_threadpool(service.check, session_uuid, otp, _client_ip(request))
    return _ok({"verified": True, "recipient": result.e164})


async def _health(_request: Request, _body: dict[str, Any], service: VerificationService) -> JSONResponse:
    def probe() -> None:
        with service.db() as db:
            db.exec(text("SELECT 1"))

    try:
        await run_in_threadpool(probe)
    except Exception as exc:  # noqa: BLE001 - any database failure is "unhealthy"
        log.event("health_db_error", logging.ERROR, error=type(exc).__name__)
        return _error(503, "The database is unreachable.", status="unavailable")
    return _ok({"status": "ok", "provider": service.settings.provider})


def api_routes(service: ServiceFactory = get_verification_service) -> list[BaseRoute]:
    """The OTP API's routes (and the sandbox's, in sandbox mode).

    Args:
        service: Returns the service the routes call; the process's own by default.
    """
    return [
        _json_route("/api/otp/send", "POST", _send, service),
        _json_route("/api/otp/resend", "POST", _resend, service),
        _json_route("/api/otp/verify", "POST", _verify, service),
        _json_route("/api/health", "GET", _health, service),
        *sandbox_routes(get_settings()),
    ]


def build_api(service: ServiceFactory = get_verification_service) -> Starlette:
    """A Starlette app with `api_routes()`, for `rx.App(api_transformer=...)`."""
    return Starlette(routes=api_routes(service))
