"""Where the JSON API runs the blocking service calls: a few threads per worker, not one per request.

The services block (the Plivo SDK's HTTP, the database). Starlette's
`run_in_threadpool` would run up to 40 at once, and on one GIL they only
contend: at 50 clients, 40 threads served 433 sends/s and 8 threads 550.
`WORKER_THREADS` sets the number; requests beyond it wait their turn.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from .config import get_settings

T = TypeVar("T")

# One limiter per event loop: a limiter belongs to the loop it was made on.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


async def run_blocking(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on a worker thread, at most `WORKER_THREADS` at once."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(get_settings().infra.worker_threads)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiter)
