"""The thread pool that blocking use cases run in, off the HTTP event loop.

asyncio's own executor hop instead of anyio's ``run_in_threadpool``: anyio's capacity
limiter, cancel scope and async-library detection were a third of the server's time for a
request that did little else; a call answered in the pool went from ~167 to ~118 us of
server CPU (bench/PROFILES.md). The pool is as wide as anyio's default
(40 threads), so as many blocking calls run at once as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

POOL_THREADS = 40
_pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="stepwell-http")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in the pool; its result, or its exception raised here."""
    return await asyncio.get_running_loop().run_in_executor(_pool, fn, *args)
