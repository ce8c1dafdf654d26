"""The store's entry point: one ``Tx`` per use case, committing on success.

Services never see SQLAlchemy: they call ``store.transaction()`` and the methods of the
aggregates' repositories (``tx.state_machines``, ``tx.executions``, ``tx.runtime``, ``tx.tags``,
``tx.queues``, ``tx.topics``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import IntegrityError, OperationalError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from engine.store import tables
from engine.store.database import make_engine
from engine.store.executions import ExecutionRepository
from engine.store.group_commit import GroupCommit
from engine.store.map_runs import MapRunRepository
from engine.store.queues import QueueRepository
from engine.store.runtime import RuntimeRepository
from engine.store.state_machines import StateMachineRepository, TagRepository
from engine.store.status_notifications import StatusNotificationRepository
from engine.store.streams import StreamRepository
from engine.store.tasks import TaskRepository
from engine.store.topics import TopicRepository
from engine.store.versions import VersionRepository

# Group-commit writer threads on PostgreSQL: four kept its starts/s rising with client threads
# (bench/PROFILES.md); SQLite has one writer at a time, so one thread.
POSTGRES_GROUP_WRITERS = 4


class Conflict(Exception):
    """A unique constraint refused a write (a name already taken)."""


class Tx:
    """One transaction and the repositories bound to it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.state_machines = StateMachineRepository(conn)
        self.versions = VersionRepository(conn)
        self.executions = ExecutionRepository(conn)
        self.runtime = RuntimeRepository(conn)
        self.tags = TagRepository(conn)
        self.tasks = TaskRepository(conn)
        self.map_runs = MapRunRepository(conn)
        self.queues = QueueRepository(conn)
        self.streams = StreamRepository(conn)
        self.topics = TopicRepository(conn)
        self.status_notifications = StatusNotificationRepository(conn)
        # What to do once this transaction has committed, or once it has rolled back
        # (handing a task to a waiting poller is only true after the commit).
        self.on_commit: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []


class Store:
    """A database, its engine, and transactions over it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._local_writer: Any = threading.RLock() if self.is_sqlite else nullcontext()
        # Group commits queue on the SQLite writer lock, or on a lock of their own.
        self.groups = GroupCommit(
            self.run,
            self._local_writer if self.is_sqlite else threading.Lock(),
            writers=1 if self.is_sqlite else POSTGRES_GROUP_WRITERS,
            transient=lambda exc: isinstance(exc, OperationalError),
        )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run a unit of work; commit when the block ends normally, roll back otherwise.

        SQLite has one writer at a time. Threads of this process queue on a lock instead of
        meeting in SQLite's busy handler, whose sleep-and-retry loop costs milliseconds per
        collision; other processes still meet the busy timeout.
        """
        tx: Tx | None = None
        try:
            with self._local_writer, self.engine.begin() as conn:
                tx = Tx(conn)
                try:
                    yield tx
                except IntegrityError as exc:
                    raise Conflict(str(exc.orig)) from exc
        except BaseException:
            for hook in tx.on_rollback if tx is not None else ():
                hook()
            raise
        for hook in tx.on_commit:
            hook()

    def run(self, work: Any) -> Any:
        """Run ``work(tx)`` in a transaction, retrying briefly when the database is busy."""
        return _retrying(lambda: self._once(work))

    def _once(self, work: Any) -> Any:
        with self.transaction() as tx:
            return work(tx)

    def read(self, work: Any) -> Any:
        """Run ``work(tx)`` that only reads. On SQLite it neither waits for this process's
        writer lock nor takes SQLite's: a deferred transaction reads a consistent snapshot
        beside the writer (WAL), so polling clients do not queue behind the decider. On
        PostgreSQL it reads outside a transaction."""
        if not self.is_sqlite:
            return _retrying(lambda: self._autocommit_read(work))
        return _retrying(lambda: self._read_once(work))

    def _autocommit_read(self, work: Any) -> Any:
        # PostgreSQL, READ COMMITTED: each statement reads its own snapshot inside a
        # transaction too, so reading outside one sees the same and saves the round trips
        # of BEGIN and COMMIT (a DescribeExecution is then one query).
        with self.engine.connect() as conn:
            return work(Tx(conn.execution_options(isolation_level="AUTOCOMMIT")))

    def _read_once(self, work: Any) -> Any:
        with self.engine.connect() as conn:
            conn.execution_options(stepwell_read_only=True)
            with conn.begin():
                return work(Tx(conn))

    def run_grouped(self, work: Any) -> Any:
        """Like ``run``, but concurrent callers share one commit (engine.store.group_commit).

        On PostgreSQL, where transactions could run side by side, grouping measured about
        the same starts/s but kept the decider ahead of them: chain's p50 latency fell from
        hundreds of milliseconds (a backlog) to ~33 ms (bench/PROFILES.md).
        """
        return self.groups.run(work)

    async def submit_grouped(self, work: Any) -> Any:
        """``run_grouped`` for a coroutine: the work runs in the group-commit thread."""
        return await self.groups.submit(work)

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
