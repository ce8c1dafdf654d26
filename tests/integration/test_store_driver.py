"""Statements run on the driver's cursor (engine.store.driver) behave like any other: they
commit and roll back with their transaction, and a refused write surfaces as SQLAlchemy's
exception type, which the store maps (Conflict) and retries (OperationalError) as usual. On
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services.context import ServiceContext
from engine.store.repository import Conflict

EVENT = {
    "event_id": 1,
    "previous_event_id": 0,
    "type": "ExecutionStarted",
    "timestamp": 1.0,
    "details": "{}",
}


def _execution(arn: str) -> dict[str, Any]:
    return {
        "arn": arn,
        "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
        "revision_id": 1,
        "name": arn.rsplit(":", 1)[1],
        "status": "RUNNING",
        "input": "{}",
        "start_date": 1.0,
    }


def test_an_insert_on_the_cursor_is_undone_with_its_transaction(ctx: ServiceContext) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:undone"

    def work(tx: Any) -> None:
        execution_id = tx.executions.insert_new(_execution(arn))
        assert execution_id is not None
        tx.executions.append_events(execution_id, [EVENT])
        raise RuntimeError("the use case fails after its writes")

    with pytest.raises(RuntimeError):
        ctx.store.run(work)
    assert ctx.store.read(lambda tx: tx.executions.get(arn)) is None
    # The name is free again: the insert was rolled back, not left half-done.
    new_id = ctx.store.run(lambda tx: tx.executions.insert_new(_execution(arn)))
    assert new_id is not None
    assert ctx.store.run(lambda tx: tx.executions.insert_new(_execution(arn))) is None
    row = ctx.store.read(lambda tx: tx.executions.get(arn))
    assert (row["runnable"], row["event_count"], row["redrive_count"]) == (0, 0, 0)


def test_a_refused_insert_on_the_cursor_is_a_conflict(ctx: ServiceContext) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:twice"
    execution_id = ctx.store.run(lambda tx: tx.executions.insert_new(_execution(arn)))
    ctx.store.run(lambda tx: tx.executions.append_events(execution_id, [EVENT]))
    with pytest.raises(Conflict):
        ctx.store.run(lambda tx: tx.executions.append_events(execution_id, [EVENT]))
    events = ctx.store.read(lambda tx: tx.executions.events(execution_id))
    assert [e["type"] for e in events] == ["ExecutionStarted"]


def test_a_transaction_waits_out_another_process_holding_sqlite(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite only (PostgreSQL has no database-wide writer lock): a BEGIN that finds the
    database locked by another process past the busy timeout is retried, not reported."""
    import sqlite3
    import threading

    from engine.store import database
    from engine.store.repository import Store

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 20)
    store = Store(url)
    store.create_schema()
    other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.05, other.execute, args=("COMMIT",))
    releaser.start()
    try:
        store.run(lambda tx: tx.tags.put("arn:after-the-lock", {"k": "v"}))
    finally:
        releaser.join()
        other.close()
    assert store.read(lambda tx: tx.tags.list("arn:after-the-lock")) == {"k": "v"}
    store.dispose()
