"""Hand-off of a newly scheduled task to a worker already waiting for it.

A long poll (GetActivityTask, or a task worker's ``/v1/tasks/poll``) that found no task waits
here under the keys it serves (``activity:ARN``, ``function:NAME``). When a decision of this
process then schedules a task under one of those keys, it gives the task to the oldest waiting
poller in its own transaction (the task row is written as started by that worker), and once that
transaction commits the poller answers with it: no claiming transaction of its own, no trip
through the thread pool. Should the transaction roll back, the poller is told to look again.
Pollers of other processes (several nodes on PostgreSQL) keep claiming from the database.

The poller decides under the lock whether it still waits: once a decision took it, the task is
on its way and the poller waits for it (a poller whose client went away meanwhile loses the
task as it would lose a task it had claimed itself: the task's timeouts end it).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Waiter:
    """One waiting long poll."""

    worker: str
    keys: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[dict[str, Any] | None]
    taken: bool = False


@dataclass
class Handoffs:
    """Waiting pollers by key, oldest first."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiting: dict[str, deque[Waiter]] = field(default_factory=dict)

    def wait(self, keys: list[str], worker: str) -> Waiter:
        """Queue the calling poller (on its event loop) for the next task under ``keys``."""
        loop = asyncio.get_running_loop()
        waiter = Waiter(worker, tuple(keys), loop, loop.create_future())
        with self._lock:
            for key in waiter.keys:
                self._waiting.setdefault(key, deque()).append(waiter)
        return waiter

    def leave(self, waiter: Waiter) -> bool:
        """Stop waiting. False when a decision already took the waiter: its task (or None,
        should that decision roll back) arrives on ``waiter.future``."""
        with self._lock:
            self._forget(waiter)
            return not waiter.taken

    def _forget(self, waiter: Waiter) -> None:
        for key in waiter.keys:
            queue = self._waiting.get(key)
            if queue is None:
                continue
            try:
                queue.remove(waiter)
            except ValueError:
                pass
            if not queue:
                del self._waiting[key]

    def waiting(self, key: str) -> int:
        """How many pollers wait under ``key``."""
        with self._lock:
            return len(self._waiting.get(key, ()))

    def take(self, key: str) -> Waiter | None:
        """The oldest poller waiting under ``key``, now promised a task (decider side)."""
        with self._lock:
            queue = self._waiting.get(key)
            if not queue:
                return None
            waiter = queue[0]
            waiter.taken = True
            self._forget(waiter)
            return waiter

    @staticmethod
    def deliver(waiter: Waiter, task: dict[str, Any] | None) -> None:
        """Answer a taken poller (from any thread): its task, or None to look again."""

        def settle() -> None:
            if not waiter.future.done():
                waiter.future.set_result(task)

        try:
            waiter.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the poller's event loop has closed (server shutting down)
            pass

    async def next_task(
        self, keys: list[str], worker: str, notified: asyncio.Event, timeout: float
    ) -> dict[str, Any] | None:
        """Wait at most ``timeout`` seconds for a task handed over under ``keys``, or for
        ``notified`` (a task is in the database: claim it there). The task handed over
        (``taskToken``, ``input``, ``kind``, ``resource``), else None."""
        waiter = self.wait(keys, worker)
        woken: asyncio.Future[Any] = asyncio.ensure_future(notified.wait())
        handed: asyncio.Future[Any] = waiter.future
        try:
            await asyncio.wait(
                [woken, handed], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
            notified.clear()
            taken = not self.leave(waiter)
        return await waiter.future if taken else None
