"""What every use case receives: the store, the clock, settings, and the wake-up hook."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.services.handoffs import Handoffs
from engine.settings import Settings


@dataclass
class Waker:
    """Wakes the engine loops in this process at once when work appears (no sleep-polling).

    ``relay``, when set, passes the wake-up on to the other nodes of a shared PostgreSQL
    database (engine.store.notifications, wired by engine.bootstrap.connect_nodes); without
    it they notice the work on their next poll.
    """

    event: threading.Event = field(default_factory=threading.Event)
    relay: Callable[[], None] | None = None

    def wake(self) -> None:
        """Signal that runnable work exists (here, and to the other nodes)."""
        self.event.set()
        if self.relay is not None:
            self.relay()

    def wake_here(self) -> None:
        """Signal this process only (a wake-up that came from another node)."""
        self.event.set()

    def wait(self, timeout: float) -> bool:
        """Block until woken or ``timeout`` passes; clears the signal."""
        woke = self.event.wait(timeout)
        self.event.clear()
        return woke


@dataclass
class RecentRows:
    """Rows read lately, kept for ``ttl`` seconds (monotonic time): a node reuses a row it
    reads on every call of a verb (a state machine for StartExecution, a queue for SQS). This
    node's own changes ``forget`` the row; another node's are seen within ``ttl``. Dict reads
    and writes are atomic under the GIL, so threads share it without a lock."""

    ttl: float = 1.0
    capacity: int = 1024
    rows: dict[Any, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def get(self, key: Any) -> dict[str, Any] | None:
        """The row kept for ``key`` if it is fresh enough."""
        hit = self.rows.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return None
        return hit[1]

    def put(self, key: Any, row: dict[str, Any]) -> None:
        """Keep ``row`` (all rows go once ``capacity`` is reached)."""
        if len(self.rows) >= self.capacity:
            self.rows.clear()
        self.rows[key] = (time.monotonic(), row)

    def forget(self, key: Any) -> None:
        """Drop ``key``'s row (it changed here)."""
        self.rows.pop(key, None)

    def clear(self) -> None:
        """Drop every row."""
        self.rows.clear()


@dataclass
class ServiceContext:
    """The engine as use cases see it."""

    store: Any  # engine.store.repository.Store; typed loosely so services never import it
    clock: Clock
    settings: Settings
    waker: Waker = field(default_factory=Waker)
    # Wakes the timer loop when a deadline may have moved earlier (a worker's claim starts a
    # task's heartbeat clock); the loop re-reads the earliest due time.
    timer_waker: Waker = field(default_factory=Waker)
    decider_cache: Any = None
    task_signals: Any = None
    # GetActivityTask and worker long polls of this process waiting for a new task.
    handoffs: Handoffs = field(default_factory=Handoffs)
    # How an answer to an execution's task (SendTaskSuccess and the like) is committed: with
    # the engine loops running in this process, together with the decision it allows, in the
    # answering thread (EngineLoops.start sets it, runtime.decide_answer); otherwise alone,
    # waking the decider.
    decide_answer: Callable[[Callable[[Any], int]], None] | None = None
    definition_cache: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    revision_cache: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    # State machine rows StartExecution has read lately, by ARN (state_machines).
    machine_cache: RecentRows = field(default_factory=RecentRows)
    # Queue rows lately read, by (account, name) (queues.common).
    queue_cache: RecentRows = field(default_factory=RecentRows)
    # When this node last deleted each standard queue's expired messages (queues.messages).
    queue_expiry: dict[int, float] = field(default_factory=dict)
    # When this node last deleted each stream's records past retention (streams.retention).
    stream_purges: dict[int, float] = field(default_factory=dict)

    @property
    def account(self) -> str:
        """The account id in every ARN."""
        return self.settings.account_id
