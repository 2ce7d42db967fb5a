"""The running app's log under a hostile state socket: no forged lines, no flood, no tokens.

A raw Socket.IO client (engine.io text packets over a WebSocket, as the page's
own client speaks them) connects to the app that `reflex run --env prod --single-port`
serves, and sends what no page would: events whose payload is a string. The
app's output is read back as an operator's log collector gets it.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request, TextMessage

from plivo_otp_app.state.verify import VerifyState

FORGED = '{"level":"info","event":"login_ok","user_id":1}'
BOGUS_EVENTS = 200
#: 200 bogus events wrote 247 KB of tracebacks; a few envelopes fit in this.
OUTPUT_BOUND = 8 * 1024
HANG_NUMBER = "+12025550104"  # the sandbox hangs past PLIVO_READ_TIMEOUT


class StateSocket:
    """A minimal WebSocket client (wsproto over a plain socket) speaking engine.io text packets."""

    def __init__(self, app_url: str, token: str, cookie: str = "") -> None:
        host, port = app_url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.packets: list[str] = []
        target = f"/_event/?EIO=4&transport=websocket&token={token}"
        headers = [("Origin", app_url), *([("Cookie", cookie)] if cookie else [])]
        self._send(Request(host=f"{host}:{port}", target=target, extra_headers=headers))

    def _send(self, event: object) -> None:
        self.sock.sendall(self.ws.send(event))

    def send(self, text: str) -> None:
        self._send(Message(data=text))

    def receive(self) -> str:
        """The next text packet; pings are answered on the way."""
        while not self.packets:
            self.ws.receive_data(self.sock.recv(65536) or None)
            for event in self.ws.events():
                if isinstance(event, TextMessage) and event.data == "2":
                    self.send("3")
                elif isinstance(event, TextMessage):
                    self.packets.append(event.data)
                elif isinstance(event, AcceptConnection):
                    continue
                else:
                    raise AssertionError(f"unexpected {event!r}")
        return self.packets.pop(0)

    def close(self) -> None:
        self.sock.close()


@contextmanager
def state_socket(app_url: str, token: str, cookie: str = "") -> Iterator[StateSocket]:
    """A socket on the state namespace `/_event`, as a tab with client token `token` (and a browser
    with the `Cookie` header `cookie`) opens it."""
    ws = StateSocket(app_url, token, cookie)
    try:
        assert ws.receive().startswith("0")  # engine.io open
        ws.send("40/_event,")
        assert ws.receive().startswith("40/_event,")  # namespace joined
        yield ws
    finally:
        ws.close()


def emit(ws: StateSocket, payload: object) -> None:
    ws.send("42/_event," + json.dumps(["event", payload]))


def output_since(log: Path, start: int, until: str, seconds: float = 20) -> bytes:
    """The app's output after byte `start`, once `until` is in it and the output stopped growing."""
    deadline = time.monotonic() + seconds
    size = -1
    while time.monotonic() < deadline:
        data = log.read_bytes()[start:]
        if until.encode() in data and len(data) == size:
            return data
        size = len(data)
        time.sleep(0.5)
    raise AssertionError(f"{until!r} not in the output:\n{log.read_bytes()[start:][-3000:]!r}")


def test_string_events_cannot_forge_a_line_flood_the_log_or_leak_the_token(app_url, app_log):
    token = str(uuid.uuid4())
    start = app_log.stat().st_size
    with state_socket(app_url, token) as ws:
        for _ in range(BOGUS_EVENTS):
            emit(ws, f"x\n{FORGED}")
    output = output_since(app_log, start, "Received event data as a string")

    lines = output.decode().splitlines()
    assert FORGED not in lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(record, dict) for record in records)
    assert not [r for r in records if r.get("event") == "login_ok"], records
    assert len(output) < OUTPUT_BOUND, f"{len(output)} bytes for {BOGUS_EVENTS} bogus events"
    assert "Traceback" not in output.decode()
    assert token not in output.decode()


def test_the_token_of_a_closed_tab_is_not_logged(app_url, app_log):
    """A handler that finishes after its tab closed: Reflex logs the client token it could not reach."""
    token = str(uuid.uuid4())
    start = app_log.stat().st_size
    send_code = {
        "name": f"{VerifyState.get_full_name()}.send_code",
        "payload": {"form_data": {"phone": HANG_NUMBER, "country": "US", "channel": "sms"}},
        "router_data": {"pathname": "/", "query": {}, "asPath": "/"},
    }
    with state_socket(app_url, token) as ws:
        emit(ws, send_code)
        time.sleep(0.5)  # the tab closes while the provider hangs
    # Reflex's "delta to disconnected client <token>" line follows the handler's last event at
    # once; earlier tests of the session may have used up its flood allowance, so wait for the
    # handler's end, not for that line.
    output = output_since(app_log, start, '"send_failed"').decode()
    assert token not in output
    assert all(isinstance(json.loads(line), dict) for line in output.splitlines())
