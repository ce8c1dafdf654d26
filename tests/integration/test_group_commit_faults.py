"""Group commit when things go wrong: a database that stays locked past the retries, a unit
failing with an exception a future cannot carry, and driver errors of the bulk event insert.
Every caller is still answered, promptly and with the right error."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from engine.services.context import ServiceContext
from engine.store.group_commit import GroupCommit
from engine.store.repository import Conflict, Store


def test_a_database_locked_past_the_retries_is_tried_once_per_group(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite, locked by another process for longer than the retries last: the waiting starts
    are all answered with the error after the group's own retries. Trying each of them again
    alone, with retries of its own, kept every later request of the process waiting N times
    as long (with the 30 s busy timeout, minutes per start)."""
    from engine.store import database

    path = tmp_path / "locked.db"
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 1)
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    attempts: list[int] = []
    once = store._once

    def counted(work: Any) -> Any:
        attempts.append(1)
        return once(work)

    monkeypatch.setattr(store, "_once", counted)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    units = 8

    async def starts() -> list[Any]:
        # Hold this process's writer lock while the units queue, so that at most the first
        # is taken alone and the rest wait as one group.
        store._local_writer.acquire()
        try:
            waiting = [
                asyncio.ensure_future(
                    store.submit_grouped(lambda tx, i=i: tx.tags.put(f"arn:{i}", {"k": "v"}))
                )
                for i in range(units)
            ]
            await asyncio.sleep(0)  # every unit is queued now
        finally:
            store._local_writer.release()
        return await asyncio.gather(*waiting, return_exceptions=True)

    try:
        results = asyncio.run(starts())
    finally:
        other.close()
        store.dispose()
    assert all(isinstance(r, OperationalError) for r in results), results
    # At most two groups, five attempts each (Store.run's retries).
    assert len(attempts) <= 10, f"{len(attempts)} transactions tried for {units} starts"


def test_a_unit_raising_stop_iteration_does_not_leave_its_group_unanswered() -> None:
    """``StopIteration`` cannot be set on an asyncio future; the other units of its group
    must still get their answers (before, the settling callback stopped at it)."""
    group = GroupCommit(lambda work: work(None), threading.Lock(), writers=1)
    started, release = threading.Event(), threading.Event()

    def gate(_tx: Any) -> str:
        started.set()
        release.wait()
        return "gate"

    def stops(_tx: Any) -> Any:
        return next(iter(()))

    async def run() -> list[Any]:
        broken: list[dict[str, Any]] = []
        failed = asyncio.Event()

        def handler(_loop: Any, context: dict[str, Any]) -> None:
            broken.append(context)
            failed.set()

        asyncio.get_running_loop().set_exception_handler(handler)
        first = asyncio.ensure_future(group.submit(gate))
        await asyncio.to_thread(started.wait)
        # Queued behind the gate: these three form one group.
        units = [
            asyncio.ensure_future(group.submit(w)) for w in (lambda _tx: 1, stops, lambda _tx: 3)
        ]
        await asyncio.sleep(0)
        release.set()
        everyone = asyncio.ensure_future(asyncio.gather(first, *units, return_exceptions=True))
        alarm = asyncio.ensure_future(failed.wait())
        await asyncio.wait([everyone, alarm], return_when=asyncio.FIRST_COMPLETED)
        alarm.cancel()
        assert not broken, broken[0].get("exception")
        return list(await everyone)

    results = asyncio.run(asyncio.wait_for(run(), 30))
    assert results[0] == "gate" and results[1] == 1 and results[3] == 3
    assert isinstance(results[2], RuntimeError) and "StopIteration" in str(results[2])


def test_a_bulk_event_insert_refused_by_a_key_is_a_conflict(ctx: ServiceContext) -> None:
    """Eight events or more go to PostgreSQL through COPY: its refusal must surface as the
    store's Conflict, as the row-by-row insert's does (and as SQLAlchemy would have raised)."""
    rows = [
        {
            "execution_id": 1,
            "event_id": n,
            "previous_event_id": n - 1,
            "type": "PassStateEntered",
            "timestamp": 1.0,
            "details": None,
        }
        for n in range(1, 9)
    ]
    ctx.store.run(lambda tx: tx.executions.insert_events(rows))
    with pytest.raises(Conflict):
        ctx.store.run(lambda tx: tx.executions.insert_events(rows))
    stored = ctx.store.read(lambda tx: tx.executions.events(1))
    assert [e["event_id"] for e in stored] == list(range(1, 9))
