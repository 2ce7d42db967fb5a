"""The flows by purpose: `register` one, `get` the one a code step is for."""

from __future__ import annotations

from .base import Flow

_FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    """Add `flow` under its purpose; a purpose has one flow (registering another is a mistake).

    Raises:
        ValueError: Another flow is registered for the purpose.
    """
    known = _FLOWS.get(flow.purpose)
    if known is not None and known is not flow:
        raise ValueError(f"a flow for purpose {flow.purpose!r} is already registered")
    _FLOWS[flow.purpose] = flow
    return flow


def unregister(purpose: str) -> None:
    """Forget the flow of `purpose`, if any (a test's own purpose, once the test is over)."""
    _FLOWS.pop(purpose, None)


def get(purpose: str) -> Flow:
    """The flow of `purpose`.

    Raises:
        LookupError: No flow is registered for it.
    """
    flow = _FLOWS.get(purpose)
    if flow is None:
        raise LookupError(f"no flow registered for purpose {purpose!r}")
    return flow


def pages() -> frozenset[str]:
    """The pages a flow belongs to (whose interrupted flow a restart explains)."""
    return frozenset(flow.page for flow in _FLOWS.values())
