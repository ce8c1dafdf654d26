"""The store's entry point: one ``Tx`` per use case, committing on success.

Services never see SQLAlchemy: they call ``store.transaction()`` and the methods of the
aggregates' repositories (``tx.state_machines``, ``tx.executions``, ``tx.runtime``, ``tx.tags``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import IntegrityError, OperationalError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from engine.store import tables
from engine.store.database import make_engine
from engine.store.executions import ExecutionRepository
from engine.store.map_runs import MapRunRepository
from engine.store.queues import QueueRepository
from engine.store.runtime import RuntimeRepository
from engine.store.state_machines import StateMachineRepository, TagRepository
from engine.store.tasks import TaskRepository


class Conflict(Exception):
    """A unique constraint refused a write (a name already taken)."""


class Tx:
    """One transaction and the repositories bound to it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.state_machines = StateMachineRepository(conn)
        self.executions = ExecutionRepository(conn)
        self.runtime = RuntimeRepository(conn)
        self.tags = TagRepository(conn)
        self.tasks = TaskRepository(conn)
        self.map_runs = MapRunRepository(conn)
        self.queues = QueueRepository(conn)


class Store:
    """A database, its engine, and transactions over it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._local_writer: Any = threading.RLock() if self.is_sqlite else nullcontext()
        self._queue_lock = threading.Lock()
        self._queue: list[_Queued] = []

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run a unit of work; commit when the block ends normally, roll back otherwise.

        SQLite has one writer at a time. Threads of this process queue on a lock instead of
        meeting in SQLite's busy handler, whose sleep-and-retry loop costs milliseconds per
        collision; other processes still meet the busy timeout.
        """
        with self._local_writer, self.engine.begin() as conn:
            try:
                yield Tx(conn)
            except IntegrityError as exc:
                raise Conflict(str(exc.orig)) from exc

    def run(self, work: Any) -> Any:
        """Run ``work(tx)`` in a transaction, retrying briefly when the database is busy."""
        return _retrying(lambda: self._once(work))

    def _once(self, work: Any) -> Any:
        with self.transaction() as tx:
            return work(tx)

    def run_grouped(self, work: Any) -> Any:
        """Like ``run``, but concurrent callers on SQLite share one commit (group commit).

        SQLite has one writer, so callers already wait in line for the writer lock. Whoever
        gets it runs every unit of work queued by then, each inside a savepoint so one
        caller's error undoes only its own writes, and commits once. Every caller returns
        only after the commit that holds its work. PostgreSQL runs transactions side by side,
        so there each call is its own transaction.
        """
        if not self.is_sqlite:
            return self.run(work)
        item = _Queued(work)
        with self._queue_lock:
            self._queue.append(item)
        with self._local_writer:
            if not item.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit_group(batch)
        if item.error is not None:
            raise item.error
        return item.result

    def _commit_group(self, batch: list[_Queued]) -> None:
        try:
            if len(batch) == 1:
                batch[0].result = self.run(batch[0].work)
            else:
                _retrying(lambda: self._once(lambda tx: _run_each(tx, batch)))
        except Exception as exc:  # noqa: BLE001 - handed to the callers of the batch
            for item in batch:
                item.error = exc
        finally:
            for item in batch:
                item.done = True

    def create_schema(self) -> None:
        """Create every table directly (tests); servers use the Alembic migrations."""
        tables.metadata.create_all(self.engine)

    def reset(self) -> None:
        """Delete every row of every table (``POST /_stepwell/reset``)."""
        with self.transaction() as tx:
            for table in reversed(tables.metadata.sorted_tables):
                tx.conn.execute(delete(table))

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


class _Queued:
    """One caller's unit of work waiting for a group commit."""

    __slots__ = ("work", "result", "error", "done")

    def __init__(self, work: Any) -> None:
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


def _run_each(tx: Tx, batch: list[_Queued]) -> None:
    """Run each unit in its own savepoint; an error is kept for its caller, not raised."""
    for item in batch:
        item.error = None
        savepoint = tx.conn.begin_nested()
        try:
            item.result = item.work(tx)
        except IntegrityError as exc:
            savepoint.rollback()
            item.error = Conflict(str(exc.orig))
        except OperationalError:
            raise  # the database is busy or gone: the whole batch is retried
        except Exception as exc:  # noqa: BLE001 - the caller's own error, raised in its thread
            savepoint.rollback()
            item.error = exc
        else:
            savepoint.commit()


# A locked SQLite database or a dropped PostgreSQL connection is transient: retry the whole
# transaction a few times (tenacity) before reporting the failure.
_retrying = retry(
    retry=retry_if_exception_type(OperationalError),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.02, max=0.5),
    reraise=True,
)(lambda fn: fn())
