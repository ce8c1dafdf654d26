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


# A locked SQLite database or a dropped PostgreSQL connection is transient: retry the whole
# transaction a few times (tenacity) before reporting the failure.
_retrying = retry(
    retry=retry_if_exception_type(OperationalError),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.02, max=0.5),
    reraise=True,
)(lambda fn: fn())
