"""The sandbox outbox page's state: the messages "delivered" by the embedded sandbox."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from ..config import get_settings
from ..phone import mask


class SandboxState(rx.State):
    """Newest messages first; empty outside sandbox mode."""

    messages: list[dict[str, str]] = []
    #: Whether the sandbox runs (set on page load).
    enabled: bool = False

    @rx.event
    def refresh(self) -> None:
        """Reload the outbox (on page load and on the refresh button)."""
        self.enabled = get_settings().provider.is_sandbox
        if not self.enabled:
            self.messages = []
            return
        from ..sandbox import get_store  # noqa: PLC0415 - only in sandbox mode

        self.messages = [{**asdict(m), "masked": mask(m.recipient)} for m in get_store().messages()[:50]]
