"""Login over HTTP: the session-cookie routes for browsers, and a JSON login for other clients.

Browsers: a successful login handler stores a one-time ticket, bound to the
browser cookie its socket handshake carried (`cookies.BrowserCookie`), and sends
the page to `GET /api/session/complete?ticket=...` with a full page load. That
route redeems the ticket only with the same browser cookie (a ticket link opened
in any other browser signs nobody in), ends any earlier session of the browser (no
fixation), and answers 303 with the session in an HttpOnly, SameSite=Lax
cookie (Secure under https) that JavaScript cannot read. The next page's
socket handshake carries the cookie to the state handlers.

Other clients: `POST /api/auth/login`, then `POST /api/auth/login/verify` with
the code (or a backup code) when two-factor login is on; the session token
comes back in the body and goes in `Authorization: Bearer ...`.

A forgotten password: `POST /api/auth/reset/start` with the username or email,
`/api/auth/reset/verify` with the code texted to the account's verified phone,
then `/api/auth/reset/complete` with the new password (and a backup code when
two-factor login is on); `/api/auth/reset/resend` sends the code again. The
answers are the same whether or not the name has an account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import landings, log, messages
from .blocking import run_blocking
from .cookies import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    browser_from_request,
    delete_cookie,
    give_browser_cookie,
    set_cookie,
)
from .errors import InvalidInput, NotSignedIn
from .jsonhttp import BadRequest, error, guarded_route, json_route, ok, request_ip, string_field
from .proxies import request_scheme
from .routes import get_routes
from .services import LoginResult, Services, Started

ServicesFactory = Callable[[], Services]


def safe_landing(landing: str, request: Request, default: str = "/") -> str:
    """`landing` if it is a page of one of the app's frontends, else `default` there (see `landings.py`).

    Keeps the cookie routes from redirecting anywhere else (no open redirect).
    """
    return landings.landing(landing, landings.frontends(request.scope), default)


def _requested_landing(request: Request, name: str, default: str) -> str:
    """The landing named by query parameter `name`, checked before the route does anything.

    Raises:
        BadRequest: The parameter is not a parsable URL; the route then changes nothing.
    """
    value = request.query_params.get(name, default)
    try:
        urlsplit(value).hostname  # noqa: B018 - parsing the host is the check
    except ValueError:
        raise BadRequest(400, "invalid_input", messages.landing_not_a_link(name)) from None
    return safe_landing(value, request, default)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _cross_site(request: Request) -> bool:
    return request.headers.get("sec-fetch-site") == "cross-site"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _complete_route(services: ServicesFactory) -> Route:
    async def complete(request: Request) -> Response:
        if _cross_site(request):
            return _no_store(error(403, messages.CROSS_SITE_SIGN_IN, code="cross_site"))
        fallback = _requested_landing(request, "fail", get_routes().login)
        sessions = services().sessions
        # The scheme as `BrowserCookie` judged it when it named the cookie.
        browser = browser_from_request(request.cookies, request_scheme(request.scope) == "https")
        if browser is None:
            log.event("ticket_no_browser_cookie", logging.WARNING, ip=request_ip(request))
            return _no_store(RedirectResponse(fallback, status_code=303))
        redeemed = await run_blocking(
            sessions.redeem_ticket,
            request.query_params.get("ticket"),
            request_ip(request),
            request.headers.get("user-agent", ""),
            request.cookies.get(SESSION_COOKIE),
            browser,
        )
        if redeemed is None:
            return _no_store(RedirectResponse(fallback, status_code=303))
        response = RedirectResponse(safe_landing(redeemed.landing, request), status_code=303)
        lifetimes = sessions.settings.accounts
        cookies = {SESSION_COOKIE: (redeemed.session_token, lifetimes.session_absolute_hours * 3600)}
        if redeemed.device_token:
            cookies[DEVICE_COOKIE] = (redeemed.device_token, lifetimes.remember_device_days * 86400)
        for name, (value, max_age) in cookies.items():
            set_cookie(response, name, value, max_age, _secure(request))
        return _no_store(response)

    return guarded_route("/api/session/complete", "GET", complete)


def _logout_route(services: ServicesFactory) -> Route:
    async def logout(request: Request) -> Response:
        if _cross_site(request):
            return _no_store(error(403, messages.CROSS_SITE_SIGN_OUT, code="cross_site"))
        landing = _requested_landing(request, "next", get_routes().login)
        await run_blocking(services().sessions.end, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(landing, 303)
        delete_cookie(response, SESSION_COOKIE, _secure(request))
        return _no_store(response)

    return guarded_route("/api/session/logout", "GET", logout)


def _browser_route() -> Route:
    async def browser(request: Request) -> Response:
        """A page served elsewhere (a static site) comes here once for its browser cookie, then goes back."""
        landing = _requested_landing(request, "next", "/")
        response = RedirectResponse(landing, 303)
        give_browser_cookie(response, request.cookies, request_scheme(request.scope) == "https")
        return _no_store(response)

    return guarded_route("/api/session/browser", "GET", browser)


def _login_body(result: LoginResult, services: Services, request: Request) -> dict[str, Any]:
    if result.user_id is not None:
        token = services.sessions.create_session(
            result.user_id, request_ip(request), request.headers.get("user-agent", "")
        )
        return {"status": "signed_in", "session_token": token}
    body: dict[str, Any] = {"login_token": result.pending_token, "phone": result.masked_phone}
    if result.started is not None:
        return body | {
            "status": "code_required",
            "expires_in": result.started.expires_in,
            "resend_after": result.started.resend_after,
        }
    # No code is on its way: say why and for how long, never as if one were sent. The
    # login stays pending for a backup code, or a resend once the wait is over.
    assert result.send_error is not None
    body |= {
        "status": "code_not_sent",
        "send_error": messages.send_failed_at_login(result.send_error.user_message()),
        "send_error_code": result.send_error.code,
    }
    retry_after = getattr(result.send_error, "retry_after", 0)
    if retry_after:
        body["retry_after"] = retry_after
    return body


async def _login(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    username = string_field(body, "username")
    password = string_field(body, "password")

    def run() -> dict[str, Any]:
        result = services.logins.login(username, password, request_ip(request), None)
        return _login_body(result, services, request)

    return ok(await run_blocking(run))


async def _login_verify(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    token = string_field(body, "login_token")
    code, backup = body.get("otp"), body.get("backup_code")
    if (code is None) == (backup is None):
        raise BadRequest(400, "invalid_input", messages.OTP_OR_BACKUP_CODE)

    def run() -> dict[str, Any]:
        ip = request_ip(request)
        if backup is not None:
            # The session is created in the transaction that uses the backup code up.
            agent = request.headers.get("user-agent", "")
            session_token = services.logins.login_with_backup_code(
                token,
                backup,
                ip,
                lambda db, user_id: services.sessions.create_session(user_id, ip, agent, db=db),
            )
            return {"status": "signed_in", "session_token": session_token}
        user_id = services.logins.login_with_code(token, code, ip)
        return _login_body(LoginResult(user_id=user_id), services, request)

    return ok(await run_blocking(run))


async def _login_resend(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    token = string_field(body, "login_token")
    channel = string_field(body, "channel", "sms")
    started: Started = await run_blocking(services.logins.login_resend, token, channel, request_ip(request))
    return ok(
        {"expires_in": started.expires_in, "resend_after": started.resend_after, "channel": started.channel}
    )


def _reset_started(started: Started) -> JSONResponse:
    """A reset's code is on its way (or, for a name with no verified phone, seems to be)."""
    return ok(
        {
            "status": "code_required",
            "reset_token": started.verification_id,
            "channel": started.channel,
            "expires_in": started.expires_in,
            "resend_after": started.resend_after,
        }
    )


async def _reset_start(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    username = string_field(body, "username")
    return _reset_started(await run_blocking(services.recovery.start, username, request_ip(request)))


async def _reset_resend(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    token = string_field(body, "reset_token")
    channel = string_field(body, "channel", "sms")
    started = await run_blocking(services.recovery.resend, token, channel, request_ip(request))
    return _reset_started(started)


async def _reset_verify(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    token = string_field(body, "reset_token")
    code = body.get("otp")
    if not isinstance(code, str):
        raise InvalidInput(messages.OTP_FIELD_REQUIRED)
    checked = await run_blocking(services.recovery.check_code, token, code, request_ip(request))
    return ok({"status": "verified", "backup_code_required": checked.backup_code_required})


async def _reset_complete(request: Request, body: dict[str, Any], services: Services) -> JSONResponse:
    token = string_field(body, "reset_token")
    password = string_field(body, "new_password")
    backup = body.get("backup_code")
    await run_blocking(services.recovery.complete, token, password, backup, request_ip(request))
    return ok({"status": "password_changed"})


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn("no bearer token")
    return token.strip()


async def _me(request: Request, _body: dict[str, Any], services: Services) -> JSONResponse:
    user = await run_blocking(services.sessions.authenticate, _bearer(request))
    if user is None or user.id is None:
        raise NotSignedIn("session not valid")
    view = await run_blocking(services.account_changes.view, user.id)
    return ok(
        {
            "username": view.username,
            "display_username": view.display_username,
            "phone": view.masked_phone,
            "is_phone_verified": view.is_phone_verified,
            "two_factor_enabled": view.two_factor_enabled,
        }
    )


async def _logout(request: Request, _body: dict[str, Any], services: Services) -> JSONResponse:
    token = _bearer(request)
    if await run_blocking(services.sessions.authenticate, token) is None:
        raise NotSignedIn("session not valid")
    await run_blocking(services.sessions.end, token)
    return ok({"status": "signed_out"})


def auth_routes(services: ServicesFactory) -> list[BaseRoute]:
    """The cookie routes and the JSON login routes, on the services `services` returns."""
    return [
        _complete_route(services),
        _logout_route(services),
        _browser_route(),
        json_route("/api/auth/login", "POST", _login, services),
        json_route("/api/auth/login/verify", "POST", _login_verify, services),
        json_route("/api/auth/login/resend", "POST", _login_resend, services),
        json_route("/api/auth/me", "GET", _me, services),
        json_route("/api/auth/logout", "POST", _logout, services),
        json_route("/api/auth/reset/start", "POST", _reset_start, services),
        json_route("/api/auth/reset/resend", "POST", _reset_resend, services),
        json_route("/api/auth/reset/verify", "POST", _reset_verify, services),
        json_route("/api/auth/reset/complete", "POST", _reset_complete, services),
    ]
