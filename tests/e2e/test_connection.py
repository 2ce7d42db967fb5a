"""A page that loses its connection to the server says so, and recovers by itself.

While "down", the page's socket is answered the way a server refusing it would: the
Engine.IO handshake, then a Socket.IO CONNECT_ERROR. While "up", it is the real server.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, WebSocketRoute, expect

HANDSHAKE = "0" + json.dumps(
    {"sid": "refused", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000}
)
CONNECT_ERROR = "44/_event," + json.dumps({"message": "server unavailable"})


def _refuse(socket: WebSocketRoute) -> None:
    socket.on_message(
        lambda message: socket.send(CONNECT_ERROR) if str(message).startswith("40/_event") else None
    )
    socket.send(HANDSHAKE)


def test_lost_connection_is_shown_until_the_page_reconnects(page: Page, app_url: str):
    link: dict = {"up": True, "open": []}

    def route(socket: WebSocketRoute) -> None:
        if not link["up"]:
            _refuse(socket)
            return
        socket.connect_to_server()
        link["open"].append(socket)

    page.route_web_socket(re.compile(r"/_event"), route)
    page.goto(app_url)
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    expect(page.locator("#connection-banner")).to_have_count(0)

    link["up"] = False
    for socket in link["open"]:
        socket.close()
    banner = page.locator("#connection-banner")
    expect(banner).to_have_text("Connection to the server lost. Reconnecting…")
    expect(banner).to_have_attribute("role", "alert")

    link["up"] = True
    expect(banner).to_have_count(0, timeout=30_000)
    page.fill("#phone", "(415) 555-2690")
    page.click("#send-otp")
    expect(page.locator("#message")).to_contain_text("+1 415-555-2690")
