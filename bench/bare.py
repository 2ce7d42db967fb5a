"""The "framework limit": a bare Starlette endpoint on the same server (granian) that
answers `POST /api/otp/send` with the same JSON shape, doing no work."""

from __future__ import annotations

import json
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def send(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse(
        {
            "session_uuid": str(uuid.uuid4()),
            "recipient": body.get("recipient", ""),
            "channel": "sms",
            "expires_in": 300,
            "resend_after": 30,
        },
        headers={"Cache-Control": "no-store"},
    )


app = Starlette(routes=[Route("/api/otp/send", send, methods=["POST"])])
