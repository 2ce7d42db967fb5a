"""Serve the sandbox alone: `python -m plivo_otp_app.sandbox --port 8100`.

Point the app at it with `OTP_PROVIDER=plivo`, `PLIVO_API_BASE_URL=http://127.0.0.1:8100`
and the sandbox credentials (`PLIVO_AUTH_ID=MASANDBOX00000000000`,
`PLIVO_AUTH_TOKEN=sandbox-auth-token`).
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette

from .api import build_routes
from .settings import SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN
from .store import SandboxStore


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--expiry", type=int, default=600, help="session expiry in seconds")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds the hang fault waits")
    args = parser.parse_args()
    store = SandboxStore(expiry_seconds=args.expiry)
    app = Starlette(routes=build_routes(store, SANDBOX_AUTH_ID, SANDBOX_AUTH_TOKEN, args.hang))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
