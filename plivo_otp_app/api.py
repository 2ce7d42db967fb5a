"""The JSON API beside the UI: the same service calls, answered as HTTP.

`POST /api/otp/send`, `POST /api/otp/resend`, `POST /api/otp/verify`,
`GET /api/otp/challenge`, `GET /api/health` and Plivo's delivery callbacks
(`POST /api/plivo/status`), plus the sandbox's routes in sandbox mode. A send the pumping
policy finds risky answers 428 `challenge_required` with a fresh challenge; the client
sends again with its answer in `"challenge"`. Mount with
`rx.App(api_transformer=build_api())`, or add `api_routes()` to your own app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from . import log, messages
from .auth_api import auth_routes
from .blocking import run_blocking
from .callbacks import callback_routes
from .config import get_settings
from .enums import Purpose
from .errors import ChallengeRequired, InvalidInput
from .jsonhttp import error, json_route, ok, request_ip, string_field
from .sandbox import sandbox_routes
from .services import (
    Checked,
    DeliveryService,
    Services,
    Started,
    VerificationService,
    get_delivery_service,
    get_services,
    get_verification_service,
)

ServiceFactory = Callable[[], VerificationService]


def _started(result: Started) -> JSONResponse:
    return ok(
        {
            "session_uuid": result.verification_id,
            "recipient": result.e164,
            "channel": result.channel,
            "expires_in": result.expires_in,
            "resend_after": result.resend_after,
        }
    )


async def _challenged(service: VerificationService, exc: ChallengeRequired) -> JSONResponse:
    """428 `challenge_required`, with a fresh challenge to solve (`GET /api/otp/challenge`'s body)."""
    issued = await run_blocking(service.issue_challenge)
    return error(exc.status, messages.CHALLENGE_REQUIRED, code=exc.code, **issued)


async def _sent(service: VerificationService, send: Callable[..., Started], *args: object) -> JSONResponse:
    """A send or resend answered: the started code, or the challenge a risky one must solve first."""
    try:
        result = await run_blocking(send, *args)
    except ChallengeRequired as exc:
        return await _challenged(service, exc)
    return _started(result)


async def _send(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    recipient = string_field(body, "recipient")
    channel = string_field(body, "channel", "sms")
    country = string_field(body, "country", service.settings.otp.default_country)
    args = (
        recipient,
        country,
        channel,
        request_ip(request),
        Purpose.VERIFY,
        None,
        string_field(body, "challenge", ""),
    )
    return await _sent(service, service.start, *args)


async def _resend(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    session_uuid = string_field(body, "session_uuid")
    channel = string_field(body, "channel", "sms")
    args = (
        session_uuid,
        channel,
        request_ip(request),
        Purpose.VERIFY,
        None,
        string_field(body, "challenge", ""),
    )
    return await _sent(service, service.resend, *args)


async def _challenge(_request: Request, _body: dict[str, Any], service: VerificationService) -> JSONResponse:
    """A challenge to solve before a send (`{"provider", "challenge"}`); a send that needs none ignores it."""
    return ok(await run_blocking(service.issue_challenge))


async def _verify(request: Request, body: dict[str, Any], service: VerificationService) -> JSONResponse:
    session_uuid = string_field(body, "session_uuid")
    otp = body.get("otp")
    if not isinstance(otp, str):
        raise InvalidInput(messages.OTP_FIELD_REQUIRED)
    result: Checked = await run_blocking(service.check, session_uuid, otp, request_ip(request))
    return ok({"verified": True, "recipient": result.e164})


async def _health(_request: Request, _body: dict[str, Any], service: VerificationService) -> JSONResponse:
    """Healthy only if the database takes a write: one that only reads would pass a
    read-only or deleted file, and then lose every account made after it."""
    try:
        await run_blocking(service.check_database)
    except Exception as exc:  # noqa: BLE001 - any database failure is "unhealthy"
        reason = str(getattr(exc, "orig", None) or exc)
        log.event("health_db_error", logging.ERROR, error=type(exc).__name__, reason=reason[:200])
        return error(503, messages.HEALTH_DATABASE_DOWN, code="unavailable", status="unavailable")
    return ok({"status": "ok", "provider": service.settings.provider.name})


def api_routes(
    service: ServiceFactory = get_verification_service,
    accounts: Callable[[], Services] = get_services,
    deliveries: Callable[[], DeliveryService] = get_delivery_service,
) -> list[BaseRoute]:
    """The OTP and login API's routes, Plivo's delivery callbacks (and the sandbox's, in sandbox mode).

    Args:
        service: Returns the verification service the routes call; the process's own by default.
        accounts: Returns the services of the login routes (login, sessions, the account view).
        deliveries: Returns the service of the delivery callbacks.
    """
    return [
        json_route("/api/otp/send", "POST", _send, service),
        json_route("/api/otp/resend", "POST", _resend, service),
        json_route("/api/otp/verify", "POST", _verify, service),
        json_route("/api/otp/challenge", "GET", _challenge, service),
        json_route("/api/health", "GET", _health, service),
        *auth_routes(accounts),
        *callback_routes(deliveries),
        *sandbox_routes(get_settings()),
    ]


def build_api(
    service: ServiceFactory = get_verification_service,
    accounts: Callable[[], Services] = get_services,
    deliveries: Callable[[], DeliveryService] = get_delivery_service,
) -> Starlette:
    """A Starlette app with `api_routes()`, for `rx.App(api_transformer=...)`."""
    return Starlette(routes=api_routes(service, accounts, deliveries))
