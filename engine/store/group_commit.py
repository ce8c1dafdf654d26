"""Group commit: many callers' small writes share one transaction and one commit.

Two ways in. Threads call ``GroupCommit.run`` and take turns leading: whoever gets the lock
runs every unit queued by then and commits once, so nobody changes threads. Coroutines on
the HTTP event loop ``await GroupCommit.submit``: their units go to one writer thread, which
commits whatever has queued and settles the waiting futures in one call back to the loop.
That spares each request a trip through the thread pool (a hop there and back, and eight
pool threads taking turns at one lock), which was most of StartExecution's cost beside its
two INSERTs (bench/PROFILES.md).

Either way a caller learns its result only after the commit that holds its work; should one
unit fail, the transaction is rolled back and each unit runs again in a transaction of its
own, so an error reaches only its own caller and leaves nothing behind. A unit of work may
therefore run more than once; only one run commits. When the database itself fails past the
store's retries (``transient``), every unit of the group gets that error at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("stepwell.store")


class _Queued:
    """One caller's unit of work waiting for a group commit."""

    __slots__ = ("work", "result", "error", "done", "future")

    def __init__(self, work: Any, future: asyncio.Future[Any] | None = None) -> None:
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.future = future


class GroupCommit:
    """Commits queued units of work in groups over ``run`` (one transaction per call).

    Threads calling ``run`` take turns at ``lock``: on SQLite the process's writer lock, which
    every group would wait for anyway. Coroutines' work goes to ``writers`` threads, each
    committing what has queued when it comes round: one on SQLite (one writer at a time in
    any case), several on PostgreSQL, where a group's round trips and commit leave the
    process idle unless another group is on its way meanwhile.
    """

    def __init__(
        self,
        run: Callable[[Any], Any],
        lock: Any,
        writers: int = 1,
        transient: Callable[[BaseException], bool] = lambda _exc: False,
    ) -> None:
        self._run = run
        # Errors of the database itself that ``run`` has already retried (a lock held past
        # the retries, a server that is gone): no unit caused them.
        self._transient = transient
        self._lock = lock
        self._writer_count = writers
        self._queue_lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._pending: list[_Queued] = []
        self._wake = threading.Condition(self._queue_lock)
        self._writers: list[threading.Thread] = []

    def run(self, work: Any) -> Any:
        """Run ``work(tx)`` from a thread, sharing a commit with concurrent callers."""
        item = _Queued(work)
        with self._queue_lock:
            self._queue.append(item)
        with self._lock:
            if not item.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if item.error is not None:
            raise item.error
        return item.result

    async def submit(self, work: Any) -> Any:
        """Run ``work(tx)`` from the event loop in the writer thread; the result once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        item = _Queued(work, future)
        with self._wake:
            if not self._writers:
                for n in range(self._writer_count):
                    writer = threading.Thread(
                        target=self._write, name=f"stepwell-group-commit-{n}", daemon=True
                    )
                    writer.start()
                    self._writers.append(writer)
            self._pending.append(item)
            self._wake.notify()
        return await future

    def _write(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending, []
            try:
                self._commit(batch)
            except BaseException:  # noqa: BLE001 - each item holds its error; keep serving
                # The writer must outlive any one group: a dead writer would leave every later
                # request waiting forever.
                log.exception("group commit failed")
            # One call back per event loop (a server has one; tests may run several).
            by_loop: dict[asyncio.AbstractEventLoop, list[_Queued]] = {}
            for item in batch:
                assert item.future is not None
                by_loop.setdefault(item.future.get_loop(), []).append(item)
            for loop, items in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, items)
                except RuntimeError:  # that loop has closed: nobody there waits any more
                    pass

    def _commit(self, batch: list[_Queued]) -> None:
        try:
            if len(batch) > 1:
                try:
                    results = self._run(lambda tx: [item.work(tx) for item in batch])
                except Exception as exc:  # noqa: BLE001 - one unit failed: run each alone (below)
                    if self._transient(exc):
                        # Each unit alone would meet the same error after retries of its own:
                        # the last caller (and everyone queued behind this group) would wait
                        # for N+1 rounds of retries instead of one.
                        for item in batch:
                            item.error, item.done = exc, True
                        return
                else:
                    for item, result in zip(batch, results, strict=True):
                        item.result, item.done = result, True
                    return
            for item in batch:
                try:
                    item.result = self._run(item.work)
                except Exception as exc:  # noqa: BLE001 - raised again in the caller
                    item.error = exc
                item.done = True
        finally:
            # Interrupted (KeyboardInterrupt, SystemExit): nobody may wait for an answer.
            for item in batch:
                if not item.done:
                    item.error, item.done = RuntimeError("group commit interrupted"), True


def _settle(batch: list[_Queued]) -> None:
    for item in batch:
        future = item.future
        if future is None or future.done():  # the caller went away (request cancelled)
            continue
        if isinstance(item.error, StopIteration):
            # A future refuses StopIteration (TypeError), which stopped this loop before the
            # rest of the group was answered: those requests hung.
            error = RuntimeError(f"unit of work raised {item.error!r}")
            error.__cause__ = item.error
            future.set_exception(error)
        elif item.error is not None:
            future.set_exception(item.error)
        else:
            future.set_result(item.result)
