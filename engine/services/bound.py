"""A ServiceContext bound to a transaction that is already open.

A use case of one service run inside another's transaction (a Task integration inside the
decision's, an SNS Publish delivering to SQS queues) must not open a transaction of its own:
its writes have to commit or roll back with the caller's. ``bound_context`` gives it a context
whose ``store.run`` does the work in that transaction, whose clock says the caller's ``now``,
and whose long-poll notifications are collected to be sent once the caller has committed.
"""

from __future__ import annotations

from typing import Any

from engine.clock import Clock
from engine.services.context import ServiceContext
from engine.settings import Settings


class BoundStore:
    """A store whose ``run`` (and ``read``) does its work in an open transaction."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def run(self, work: Any) -> Any:
        """Run ``work`` in the bound transaction."""
        return work(self._tx)

    read = run


class FixedClock(Clock):
    """The caller's time: every time a bound use case reads is the same ``now``."""

    def __init__(self, now: float) -> None:
        super().__init__()
        self._now = now

    def now(self) -> float:
        """The fixed time."""
        return self._now


class WakeRecorder:
    """Stands in for TaskSignals: collects the long-poll keys a use case would notify, so
    they are notified after the caller commits (a receiver must not see uncommitted rows)."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def notify(self, key: str) -> None:
        """Remember ``key`` (once)."""
        if key not in self._keys:
            self._keys.append(key)


def bound_context(
    tx: Any, now: float, account: str, region: str, wake_keys: list[str]
) -> ServiceContext:
    """A ServiceContext whose store is ``tx``, clock ``now`` and account ``account``; the
    long-poll keys its use cases notify are appended to ``wake_keys``."""
    settings = Settings(account_id=account, default_region=region)
    ctx = ServiceContext(store=BoundStore(tx), clock=FixedClock(now), settings=settings)
    ctx.task_signals = WakeRecorder(wake_keys)
    return ctx
