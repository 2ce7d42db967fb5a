"""The Plivo Verify wrapper: the official SDK, typed errors, explicit timeouts; its settings.

Success is decided by the absence of an exception, and failures by exception
class (never by message text). A create is never retried: each one can be a
paid SMS or call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plivo
from plivo import exceptions as px

from .. import log
from ..environ import Checked, ConfigError, as_float, as_int, as_url, between, http_url, var
from ..errors import ProviderRejected, ProviderUnavailable
from ..phone import mask
from ..sandbox.settings import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN
from .base import Outcome

if TYPE_CHECKING:
    from ..config import Settings

DEFAULT_BASE_URL = "https://api.plivo.com"
#: Where the app's backend takes Plivo's delivery callbacks (`callbacks.py`).
CALLBACK_PATH = "/api/plivo/status"
_TIMEOUT = between(0.1, 60)


@dataclass(frozen=True)
class PlivoSettings(Checked):
    """Plivo's own settings (`PLIVO_*`); the sandbox provider uses them too, but its own credentials."""

    auth_id: str = var("PLIVO_AUTH_ID", "")
    auth_token: str = var("PLIVO_AUTH_TOKEN", "", repr=False)
    #: The Verify application of the codes; Plivo's default one when unset.
    app_uuid: str | None = var("PLIVO_APP_UUID", None)
    #: A second Verify application for codes to an account's own phone (see `ProviderSettings`).
    account_app_uuid: str | None = var("PLIVO_ACCOUNT_APP_UUID", None)
    #: Another API host than Plivo's (e.g. a sandbox running on its own).
    api_base_url: str | None = var("PLIVO_API_BASE_URL", None, as_url, http_url)
    brand_name: str | None = var("PLIVO_BRAND_NAME", None)
    locale: str | None = var("PLIVO_LOCALE", None)
    #: The app's backend as Plivo reaches it (`https://otp.example.com`); the delivery callbacks go to
    #: its `CALLBACK_PATH`. None: the backend's own `api_url` (Reflex's `REFLEX_API_URL`).
    callback_base_url: str | None = var("PLIVO_CALLBACK_BASE_URL", None, as_url, http_url)
    #: How old a callback's signed `RequestTime` may be: Plivo retries for about 7 minutes.
    callback_max_age_seconds: int = var("PLIVO_CALLBACK_MAX_AGE_SECONDS", 900, as_int, between(60, 86400))
    connect_timeout: float = var("PLIVO_CONNECT_TIMEOUT", 3.0, as_float, _TIMEOUT)
    read_timeout: float = var("PLIVO_READ_TIMEOUT", 5.0, as_float, _TIMEOUT)
    #: The sender number of plain SMS (security notices); none are sent without one.
    sms_source: str | None = var("PLIVO_SMS_SOURCE", None)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.account_app_uuid is not None and self.account_app_uuid == self.app_uuid:
            raise ConfigError(
                "PLIVO_ACCOUNT_APP_UUID must name another Verify application than PLIVO_APP_UUID"
            )

    @property
    def has_credentials(self) -> bool:
        """Whether either credential is set."""
        return bool(self.auth_id or self.auth_token)

    def check_credentials(self) -> None:
        """Refuse to talk to Plivo itself without both credentials, or with a malformed id."""
        if not self.auth_id or not self.auth_token:
            raise ConfigError("PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN must be set when OTP_PROVIDER=plivo")
        if len(self.auth_id) != 20 or not self.auth_id.startswith(("MA", "SA")):
            raise ConfigError("PLIVO_AUTH_ID must be a 20-character id starting with MA or SA")


class _Client(plivo.RestClient):
    """`plivo.RestClient` whose API host is ours to choose.

    The SDK rebuilds its base URI from a module constant on every request, so
    the only override that needs no global patch is here, where the URL is built.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._our_base_uri = base_url.rstrip("/") + "/v1/Account"

    def create_request(self, method: str, path: Any = None, data: Any = None, **kwargs: Any) -> Any:
        self.base_uri = self._our_base_uri
        return super().create_request(method, path, data, **kwargs)


class PlivoProvider:
    """`VerifyProvider` backed by Plivo Verify sessions."""

    def __init__(
        self,
        auth_id: str,
        auth_token: str,
        base_url: str | Callable[[], str] = DEFAULT_BASE_URL,
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        app_uuid: str | None = None,
        brand_name: str | None = None,
        locale: str | None = None,
        code_length: int | None = None,
        callback_url: str | Callable[[], str] | None = None,
    ) -> None:
        self._auth = (auth_id, auth_token)
        self._base_url = base_url
        self._timeout = (connect_timeout, read_timeout)
        self._create_options = {
            "app_uuid": app_uuid,
            "brand_name": brand_name,
            "locale": locale,
            "code_length": code_length,
        }
        self._callback_url = callback_url
        self._local = threading.local()

    @property
    def credentials(self) -> tuple[str, str]:
        """The auth id and token this wrapper sends (for checks; never log the token)."""
        return self._auth

    def send(
        self, recipient: str, channel: str, app_uuid: str | None = None, locale: str | None = None
    ) -> str:
        """Create (or extend) a Verify session, in application `app_uuid` if given (else the
        configured one), in `locale` if given (else the configured one); returns its session uuid."""
        options = self._create_options | ({"app_uuid": app_uuid} if app_uuid else {})
        options |= {"locale": locale} if locale else {}
        callback = self._callback_url() if callable(self._callback_url) else self._callback_url
        options |= {"url": callback, "method": "POST"} if callback else {}
        try:
            response = self._client().verify_session.create(recipient=recipient, channel=channel, **options)
        except Exception as exc:
            raise _translate(exc, "create", recipient) from exc
        session_id = getattr(response, "session_uuid", None) if response is not None else None
        if not isinstance(session_id, str) or not session_id:
            log.event(
                "provider_error", logging.ERROR, op="create", phone=mask(recipient), error="no session_uuid"
            )
            raise ProviderUnavailable("create answered without a session_uuid")
        return session_id

    def validate(self, session_id: str, code: str) -> Outcome:
        """Check a code; a refusal is resolved to wrong, expired or used by the session's status."""
        try:
            self._client().verify_session.validate(session_uuid=session_id, otp=code)
        except px.ResourceNotFoundError:
            return Outcome.EXPIRED
        except px.ValidationError:
            return {"verified": Outcome.USED, "expired": Outcome.EXPIRED}.get(
                self.status(session_id), Outcome.WRONG
            )
        except Exception as exc:
            raise _translate(exc, "validate") from exc
        return Outcome.VALID

    def status(self, session_id: str) -> str:
        """The session's status in lower case."""
        try:
            session = self._client().verify_session.get(session_id)
        except Exception as exc:
            raise _translate(exc, "get") from exc
        status = getattr(session, "status", None)
        if not isinstance(status, str):
            raise ProviderUnavailable("session without status")
        return status.lower()

    def notify(self, source: str, recipient: str, text: str) -> None:
        """Send a plain SMS through Plivo Messaging (not Verify)."""
        try:
            self._client().messages.create(dst=recipient.lstrip("+"), src=source.lstrip("+"), text=text)
        except Exception as exc:
            raise _translate(exc, "message", recipient) from exc

    def _client(self) -> _Client:
        """One SDK client per thread: `requests.Session` is not shared across threads."""
        base_url = self._base_url() if callable(self._base_url) else self._base_url
        client = getattr(self._local, "client", None)
        if client is None or client._our_base_uri != base_url.rstrip("/") + "/v1/Account":
            client = _Client(base_url, auth_id=self._auth[0], auth_token=self._auth[1], timeout=self._timeout)
            self._local.client = client
        return client


def _translate(exc: Exception, op: str, recipient: str | None = None) -> Exception:
    """Map an SDK or transport failure to the app's typed provider errors."""
    if isinstance(exc, (px.ValidationError, px.GeoPermissionError, px.ForbiddenError)):
        error: Exception = ProviderRejected(type(exc).__name__)
    else:
        # PlivoRestError (401, 404, 429, 5xx), requests' timeouts and connection
        # errors, and anything unforeseen in the SDK: all fail closed the same way.
        error = ProviderUnavailable(type(exc).__name__)
    log.event(
        "provider_error",
        logging.WARNING,
        op=op,
        phone=mask(recipient) if recipient else None,
        error=type(exc).__name__,
        status=_status_of(exc),
    )
    return error


def _status_of(exc: Exception) -> int | None:
    """The HTTP status behind an SDK exception, where the class tells it."""
    by_class = {
        px.ValidationError: 400,
        px.AuthenticationError: 401,
        px.GeoPermissionError: 403,
        px.ForbiddenError: 403,
        px.ResourceNotFoundError: 404,
        px.PlivoServerError: 500,
    }
    for cls, status in by_class.items():
        if isinstance(exc, cls):
            return status
    text = str(exc)
    if isinstance(exc, px.PlivoRestError) and text.startswith("Received status code "):
        code = text.removeprefix("Received status code ").split(" ", 1)[0]
        return int(code) if code.isdigit() else None
    return None


def plivo_provider(settings: Settings) -> PlivoProvider:
    """Plivo Verify (or the API host `PLIVO_API_BASE_URL` names) with the configured credentials."""
    own = settings.provider.plivo
    return _configured(settings, own.auth_id, own.auth_token, own.api_base_url or DEFAULT_BASE_URL)


def sandbox_provider(settings: Settings) -> PlivoProvider:
    """The Plivo wrapper pointed at the embedded sandbox, with the sandbox's credentials.

    The production code path is the one exercised. The sandbox answers on the app's
    own backend, unless `PLIVO_API_BASE_URL` names one running on its own.
    """
    base_url = settings.provider.plivo.api_base_url or _own_backend_url
    return _configured(settings, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, base_url)


def _configured(
    settings: Settings, auth_id: str, auth_token: str, base_url: str | Callable[[], str]
) -> PlivoProvider:
    plivo_settings = settings.provider.plivo
    return PlivoProvider(
        auth_id=auth_id,
        auth_token=auth_token,
        base_url=base_url,
        connect_timeout=plivo_settings.connect_timeout,
        read_timeout=plivo_settings.read_timeout,
        app_uuid=plivo_settings.app_uuid,
        brand_name=plivo_settings.brand_name,
        locale=plivo_settings.locale,
        code_length=settings.otp.code_length,
        callback_url=lambda: callback_url(settings),
    )


def callback_url(settings: Settings) -> str:
    """The URL Plivo is given for a session's delivery callbacks, and so the URL it signs them for."""
    base = settings.provider.plivo.callback_base_url or _own_backend_url()
    return base.rstrip("/") + CALLBACK_PATH


def callback_token(settings: Settings) -> str | None:
    """The auth token Plivo signs the callbacks with: the account's, the sandbox's in sandbox
    mode; None for a provider that sends none."""
    if settings.provider.name == "plivo":
        return settings.provider.plivo.auth_token or None
    if settings.provider.is_sandbox:
        return SANDBOX_AUTH_TOKEN
    return None


def _own_backend_url() -> str:
    """The app's own backend, where the embedded sandbox answers; read per call
    because Reflex settles the backend address only once the server is up."""
    from reflex.config import get_config  # noqa: PLC0415 - keep Reflex out of import time

    return get_config().api_url
