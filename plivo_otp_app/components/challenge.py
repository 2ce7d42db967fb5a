"""The challenge a risky send needs, solved by the page itself: the `altcha` web component.

`<altcha-widget>` (npm `altcha`, MIT) solves the challenge JSON it is given in Web Workers as
soon as it is mounted (`auto="onload"`), shows nothing of its own (`display="invisible"`),
and fires `verified` with the answer, which `VerifyState.challenge_solved` sends back with
the held request. The page says "Checking your browser…" meanwhile. Its workers come from
`blob:` URLs and it adds one stylesheet of its own: the page's CSP allows exactly those
(`security_headers.ALTCHA_STYLE_HASH`, `worker-src 'self' blob:`).
"""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex.constants.compiler import MemoizationDisposition, MemoizationMode
from reflex.utils.imports import ImportDict, ImportVar

from ..i18n import t
from ..state import VerifyState

#: The web component's package, pinned (its stylesheet's hash is in the page's CSP).
ALTCHA_PACKAGE = "altcha@3.2.2"


def _answer(event: rx.Var) -> tuple[rx.Var[str]]:
    """The `verified` event's answer (`event.detail.payload`, base64)."""
    return (rx.Var(_js_expr=f"{event}.detail.payload", _var_type=str),)


class AltchaWidget(rx.Component):
    """`<altcha-widget>`: registered by importing the package, driven by its attributes."""

    tag = "altcha-widget"
    #: A custom element: its tag is the element's name, not an imported component.
    _is_tag_in_global_scope: ClassVar[bool] = True
    #: Never wrapped in a memo of its own: Reflex 0.10.1 names one after the tag, and a
    #: hyphen in a JavaScript name breaks the build (its parent's memo holds it instead).
    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.NEVER)

    #: The challenge JSON (an object's text) to solve; a URL is never given (no fetch).
    challenge: rx.Var[str]
    #: When it solves: "onload" (on mount).
    auto: rx.Var[str]
    #: "invisible": no box, no logo, no footer.
    display: rx.Var[str]
    #: The name of the hidden form field with the answer (the page reads the event instead).
    name: rx.Var[str]
    #: Solved: `[answer]`. Lower case on purpose: React listens for the event named after "on".
    onverified: rx.EventHandler[_answer]

    def add_imports(self) -> ImportDict:
        """The package's side effect: it defines the custom element."""
        return {ALTCHA_PACKAGE: ImportVar(tag=None)}


def challenge_solver() -> rx.Component:
    """While a send waits for its challenge: "Checking your browser…" and the widget solving it."""
    return rx.cond(
        VerifyState.challenge != "",
        rx.el.div(
            rx.el.p(t("Checking your browser…"), id="challenge-status", class_name="muted", role="status"),
            AltchaWidget.create(
                challenge=VerifyState.challenge,
                auto="onload",
                display="invisible",
                name="altcha",
                onverified=VerifyState.challenge_solved,
                key=VerifyState.challenge,
            ),
            class_name="challenge",
        ),
    )
