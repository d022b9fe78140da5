"""Run pyHanko's synchronous API from any thread.

pyHanko's blocking functions (signing, validation) call ``asyncio.run`` internally, which
refuses to start when the calling thread already runs an event loop (an async server, a
test driving a browser through Playwright's sync API). There, the call moves to a short-lived
thread of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def outside_event_loop(function: Callable[[], T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function).result()
