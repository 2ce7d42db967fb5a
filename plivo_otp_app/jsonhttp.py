"""JSON over HTTP for the API routes: strict body parsing, typed errors to statuses.

Every route answers every method (a JSON 405 for the wrong ones), reads at most
4 KiB of `application/json`, and turns the services' typed errors into one
status each, so no request body, however hostile, reaches a 500.

Every error body is `{"code", "message", "error"}`: `code` is the stable machine
name of the failure (a typed error's `code`, or the transport's own for a `BadRequest`),
`message` the sentence a user may read, and `error` the same sentence, kept for
clients written before `message` existed (deprecated).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import log, messages
from .errors import (
    CodeRejected,
    OtpError,
    RateLimited,
    TooManyAttempts,
    VerificationExpired,
    from_unexpected,
)
from .proxies import client_address
from .translations import negotiate, use_language

S = TypeVar("S")

MAX_BODY_BYTES = 4096


class BadRequest(Exception):
    """A request the route refuses before any service sees it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error(status: int, message: str, /, *, code: str, **extra: Any) -> JSONResponse:
    """A JSON error body `{"code", "message", "error", ...}` that is never cached."""
    headers = {"Cache-Control": "no-store"}
    if status == 405:
        headers["Allow"] = extra.pop("allow")
    message = messages.say(message)  # in the request's language (`Accept-Language`)
    body = {"code": code, "message": message, "error": message, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def ok(body: dict[str, Any]) -> JSONResponse:
    """A 200 JSON body that is never cached."""
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or `BadRequest` with the right status."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest(415, "unsupported_media_type", messages.BODY_NOT_JSON_TYPE)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(413, "body_too_large", messages.BODY_TOO_LARGE)
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > MAX_BODY_BYTES:
                raise BadRequest(413, "body_too_large", messages.BODY_TOO_LARGE)
    except ClientDisconnect:
        raise BadRequest(400, "invalid_json", messages.BODY_CUT_OFF) from None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(400, "invalid_json", messages.BODY_NOT_JSON) from None
    if not isinstance(body, dict):
        raise BadRequest(400, "invalid_json", messages.BODY_NOT_OBJECT)
    return body


def string_field(body: dict[str, Any], name: str, default: str | None = None) -> str:
    """A required (or defaulted) string field, or `BadRequest` naming it."""
    value = body.get(name, default)
    if value is None:
        raise BadRequest(400, "invalid_input", messages.field_required(name))
    if not isinstance(value, str):
        raise BadRequest(400, "invalid_input", messages.field_not_string(name))
    return value


def request_ip(request: Request) -> str:
    """The client address, by the same rule as the page's state handlers (`proxies.client_address`)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"))


def json_route(
    path: str,
    method: str,
    handler: Callable[[Request, dict[str, Any], S], Awaitable[JSONResponse]],
    service: Callable[[], S],
) -> Route:
    """A JSON route: the body parsed strictly (for POST), every method and typed error mapped."""

    async def run(request: Request) -> Response:
        body = await json_object(request) if method == "POST" else {}
        return await handler(request, body, service())

    return guarded_route(path, method, run)


def guarded_route(path: str, method: str, run: Callable[[Request], Awaitable[Response]]) -> Route:
    """A route that answers every other method with a JSON 405, and every failure of `run` in JSON,
    its sentences in the language of the request's `Accept-Language` (English by default).

    `BadRequest` and the typed errors get their status and code; anything else is
    logged and answered as `from_unexpected` says, never as a 500 page.
    """
    allowed = (method, "HEAD") if method == "GET" else (method,)

    async def endpoint(request: Request) -> Response:
        with use_language(negotiate(request.headers.get("accept-language", ""))):
            return await answer(request)

    async def answer(request: Request) -> Response:
        if request.method not in allowed:
            return error(
                405,
                messages.method_not_allowed(method, path),
                code="method_not_allowed",
                allow=", ".join(allowed),
            )
        try:
            return await run(request)
        except BadRequest as exc:
            return error(exc.status, exc.message, code=exc.code)
        except OtpError as exc:
            return otp_error(exc)
        except Exception as exc:  # noqa: BLE001 - last resort: a typed answer, the detail in the log
            log.event("internal_error", logging.ERROR, path=path, error=type(exc).__name__)
            return otp_error(from_unexpected(exc))

    # An ASGI app (not a function) with no method list: Starlette hands it every
    # method, so TRACE, PROPFIND, ... also get the JSON 405 and the right Allow.
    return Route(path, _AnyMethod(request_response(endpoint)))


class _AnyMethod:
    """Wraps an ASGI app so `Route` treats it as an app and lets every method through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def otp_error(exc: OtpError) -> JSONResponse:
    """The one mapping from a typed error to its answer: its class's `status` and `code`."""
    extra: dict[str, Any] = {}
    if isinstance(exc, RateLimited):
        extra["retry_after"] = exc.retry_after
    elif isinstance(exc, CodeRejected):
        extra |= {"verified": False, "attempts_left": exc.attempts_left}
    elif isinstance(exc, (TooManyAttempts, VerificationExpired)):
        extra |= {"verified": False, "attempts_left": 0}
    response = error(exc.status, exc.user_message(), code=exc.code, **extra)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
