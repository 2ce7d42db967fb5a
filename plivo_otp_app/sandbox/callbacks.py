"""The sandbox's delivery callbacks: Plivo's form fields, signed as Plivo signs them.

After each delivery attempt of a session created with a `url`, the sandbox posts the
attempt's statuses there, one every `STEP_SECONDS` (an SMS: `sent`, then `delivered`, or
`undelivered` for the undelivered magic number; a call: `in-progress`, then `completed`),
each with `X-Plivo-Signature-V3` (the SDK's own signing over the URL, the fields and a
fresh nonce) and `X-Plivo-Signature-V2` (URL and nonce), both with the sandbox's auth
token. Sent once each, from a thread, never retried; a failure is dropped.

The sandbox's credentials are public, so whoever reaches it could name any `url`: it posts
only where `allowed` says (the embedded sandbox: the app's own callback URL; the one served
alone: loopback hosts), never to another host (no request forgery through the sandbox).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import requests
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3

#: The wait before each status of an attempt: a real delivery takes seconds too.
STEP_SECONDS = 0.5
#: The error code of an undelivered text (Plivo's "destination temporarily unavailable").
UNDELIVERED_ERROR = "80"

_pending: set[asyncio.Task[None]] = set()


def loopback_only(url: str) -> bool:
    """Whether `url` names this machine (the sandbox served alone posts nowhere else)."""
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def statuses(channel: str, sms_status: str) -> list[str]:
    """The statuses one attempt goes through, in order."""
    return ["in-progress", "completed"] if channel == "voice" else ["sent", sms_status]


def sign(url: str, form: dict[str, str], auth_token: str) -> dict[str, str]:
    """The V3 and V2 signature headers of a POST of `form` to `url`."""
    nonce_v3, nonce_v2 = secrets.token_hex(10), secrets.token_hex(10)
    base = construct_post_url(url, dict(form)).decode("utf-8")
    v3 = get_signature_v3(auth_token.encode(), base, nonce_v3.encode()).decode()
    scheme, netloc, path, _, _ = urlsplit(url)
    signed_v2 = (urlunsplit((scheme, netloc, path, "", "")) + nonce_v2).encode()
    v2 = base64.b64encode(hmac.new(auth_token.encode(), signed_v2, hashlib.sha256).digest()).decode()
    return {
        "X-Plivo-Signature-V3": v3,
        "X-Plivo-Signature-V3-Nonce": nonce_v3,
        "X-Plivo-Signature-V2": v2,
        "X-Plivo-Signature-V2-Nonce": nonce_v2,
    }


def form_for(
    session_uuid: str, attempt: dict[str, object], sequence: int, recipient: str, status: str
) -> dict[str, str]:
    """The fields of one callback (plivo-verify.md §7)."""
    failed = status in ("undelivered", "failed")
    return {
        "AttemptSequence": str(sequence),
        "AttemptUUID": str(attempt["attempt_uuid"]),
        "Channel": str(attempt["channel"]),
        "ChannelErrorCode": UNDELIVERED_ERROR if failed else "",
        "ChannelStatus": status,
        "Recipient": recipient.lstrip("+"),
        "RequestTime": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC"),
        "SessionStatus": "in-progress",
        "SessionUUID": session_uuid,
    }


def schedule(
    url: str, auth_token: str, session_uuid: str, attempt: dict[str, object], sequence: int, recipient: str
) -> None:
    """Post the attempt's callbacks in the background (from inside the event loop)."""
    task = asyncio.get_running_loop().create_task(
        _post_all(url, auth_token, session_uuid, attempt, sequence, recipient)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _post_all(
    url: str, auth_token: str, session_uuid: str, attempt: dict[str, object], sequence: int, recipient: str
) -> None:
    for status in statuses(str(attempt["channel"]), str(attempt["status"])):
        await asyncio.sleep(STEP_SECONDS)
        form = form_for(session_uuid, attempt, sequence, recipient, status)
        await asyncio.to_thread(_post, url, form, sign(url, form, auth_token))


def _post(url: str, form: dict[str, str], headers: dict[str, str]) -> None:
    try:
        requests.post(url, data=form, headers=headers, timeout=5, allow_redirects=False)
    except requests.RequestException:
        return
