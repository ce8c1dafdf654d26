"""Hand-off of a newly scheduled activity task to a worker already waiting for it.

A GetActivityTask long poll that found no task waits here. When a decision of this process then
schedules a task of that activity, it gives the task to the first waiting poller in its own
transaction (the task row is written as started by that worker), and once that transaction
commits the poller answers with it: no claiming transaction of its own, no trip through the
thread pool. Should the transaction roll back, the poller is told to look again. Pollers of
other processes (several nodes on PostgreSQL) keep claiming from the database as before.

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
    """One waiting GetActivityTask call."""

    worker: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[dict[str, Any] | None]
    taken: bool = False


@dataclass
class Handoffs:
    """Waiting pollers by activity ARN, oldest first."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiting: dict[str, deque[Waiter]] = field(default_factory=dict)

    def wait(self, activity_arn: str, worker: str) -> Waiter:
        """Queue the calling poller (on its event loop) for the next task of the activity."""
        loop = asyncio.get_running_loop()
        waiter = Waiter(worker, loop, loop.create_future())
        with self._lock:
            self._waiting.setdefault(activity_arn, deque()).append(waiter)
        return waiter

    def leave(self, activity_arn: str, waiter: Waiter) -> bool:
        """Stop waiting. False when a decision already took the waiter: its task (or None,
        should that decision roll back) arrives on ``waiter.future``."""
        with self._lock:
            if waiter.taken:
                return False
            queue = self._waiting.get(activity_arn)
            if queue is not None:
                try:
                    queue.remove(waiter)
                except ValueError:
                    pass
                if not queue:
                    del self._waiting[activity_arn]
            return True

    def waiting(self, activity_arn: str) -> int:
        """How many pollers wait for the activity."""
        with self._lock:
            return len(self._waiting.get(activity_arn, ()))

    def take(self, activity_arn: str) -> Waiter | None:
        """The oldest poller waiting for the activity, now promised a task (decider side)."""
        with self._lock:
            queue = self._waiting.get(activity_arn)
            if not queue:
                return None
            waiter = queue.popleft()
            if not queue:
                del self._waiting[activity_arn]
            waiter.taken = True
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
