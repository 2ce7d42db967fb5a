"""The sandbox outbox page's state: the messages "delivered" by the embedded sandbox."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime

import reflex as rx

from ..config import get_settings
from ..messages import time_ago
from ..phone import mask

#: How often the open outbox page reloads itself (`rx.moment`'s interval on the page).
REFRESH_SECONDS = 5


class SandboxState(rx.State):
    """Newest messages first; empty outside sandbox mode."""

    messages: list[dict[str, str]] = []
    #: Whether the sandbox runs (set on page load).
    enabled: bool = False

    @rx.event
    def refresh(self) -> None:
        """Reload the outbox (on page load, every `REFRESH_SECONDS` and on the refresh button)."""
        self.enabled = get_settings().provider.is_sandbox
        if not self.enabled:
            self.messages = []
            return
        from ..sandbox import get_store  # noqa: PLC0415 - only in sandbox mode

        now = time.time()
        self.messages = [
            {**asdict(m), "masked": mask(m.recipient), "ago": _ago(m.time, now)}
            for m in get_store().messages()[:50]
        ]


def _ago(iso: str, now: float) -> str:
    """How long before `now` the message at `iso` (the store's UTC ISO time) was delivered."""
    sent = datetime.fromisoformat(iso)
    return time_ago(now - sent.timestamp(), sent.strftime("%Y-%m-%d %H:%M UTC"))
