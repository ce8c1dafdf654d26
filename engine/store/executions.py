"""Executions and their history events."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from engine.store import driver
from engine.store.tables import executions, history_events

# Built once: constructing statements costs more than running them on the decider's hot path.

_EVENT_COLUMNS = [c.name for c in history_events.columns]
_MARKERS = {"sqlite": ":{}", "postgresql": "%({})s"}
_RAW_INSERT_EVENTS = {
    dialect: f"INSERT INTO history_events ({', '.join(_EVENT_COLUMNS)}) VALUES "
    f"({', '.join(marker.format(c) for c in _EVENT_COLUMNS)})"
    # Named parameters in each driver's own style (sqlite3: ":name", psycopg: "%(name)s").
    for dialect, marker in _MARKERS.items()
}
# PostgreSQL takes many rows fastest through COPY: one stream instead of a pipelined INSERT
# per row, whose per-row round through the driver was a fifth of the server under chain.
_COPY_EVENTS = f"COPY history_events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
_COPY_FROM_ROWS = 8
_GET_BY_ARN = select(executions).where(executions.c.arn == bindparam("arn"))
_GET_BY_ID = select(executions).where(executions.c.id == bindparam("id"))
# Column defaults the table declares on the Python side, for inserts that bypass SQLAlchemy.
_EXECUTION_DEFAULTS = {
    c.name: c.default.arg
    for c in executions.columns
    if isinstance(c.default, ScalarElementColumnDefault)
}


@functools.lru_cache(maxsize=16)
def _insert_new_sql(dialect: str, columns: tuple[str, ...]) -> str:
    """INSERT ... ON CONFLICT (arn) DO NOTHING RETURNING id: a new execution in one statement,
    and no row back when the name is taken (StartExecution then reads the existing one). The
    driver gets it as text: SQLAlchemy's compiled-statement path was two thirds of the cost of
    a start's writes (bench/PROFILES.md); it runs on the driver's cursor (engine.store.driver)."""
    marker = _MARKERS[dialect]
    return (
        f"INSERT INTO executions ({', '.join(columns)}) VALUES "
        f"({', '.join(marker.format(c) for c in columns)}) "
        "ON CONFLICT (arn) DO NOTHING RETURNING id"
    )


_SUMMARY_COLUMNS = (
    executions.c.id,
    executions.c.arn,
    executions.c.state_machine_arn,
    executions.c.name,
    executions.c.status,
    executions.c.start_date,
    executions.c.stop_date,
    executions.c.redrive_count,
    executions.c.redrive_date,
    executions.c.version_arn,
    executions.c.alias_arn,
)


class ExecutionRepository:
    """Rows of ``executions`` and ``history_events``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_new(self, row: dict[str, Any]) -> int | None:
        """Insert an execution unless its ARN exists; returns the new id, or None."""
        values = {**_EXECUTION_DEFAULTS, **row}
        sql = _insert_new_sql(self.conn.dialect.name, tuple(values))
        row_back = driver.execute(self.conn, sql, values)
        return None if row_back is None else int(row_back[0])

    def get(self, arn: str) -> dict[str, Any] | None:
        """An execution by ARN."""
        row = self.conn.execute(_GET_BY_ARN, {"arn": arn}).mappings().first()
        return dict(row) if row else None

    def get_by_id(self, execution_id: int) -> dict[str, Any] | None:
        """An execution by its id."""
        row = self.conn.execute(_GET_BY_ID, {"id": execution_id}).mappings().first()
        return dict(row) if row else None

    def page(
        self,
        state_machine_arn: str,
        status: str | None,
        before_id: int | None,
        limit: int,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        redriven: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Executions of a state machine, newest first, optionally by status, by whether they
        were ever redriven, or only those started through a version or an alias."""
        query = select(*_SUMMARY_COLUMNS).where(executions.c.state_machine_arn == state_machine_arn)
        if redriven is not None:
            query = query.where(
                executions.c.redrive_count > 0 if redriven else executions.c.redrive_count == 0
            )
        if version_arn is not None:
            query = query.where(executions.c.version_arn == version_arn)
        if alias_arn is not None:
            query = query.where(executions.c.alias_arn == alias_arn)
        if status:
            query = query.where(executions.c.status == status)
        if before_id is not None:
            query = query.where(executions.c.id < before_id)
        rows = self.conn.execute(query.order_by(executions.c.id.desc()).limit(limit)).mappings()
        return [dict(r) for r in rows]

    def count_running(self, state_machine_arn: str) -> int:
        """How many executions of the state machine still run."""
        query = select(func.count()).where(
            executions.c.state_machine_arn == state_machine_arn, executions.c.status == "RUNNING"
        )
        return int(self.conn.execute(query).scalar_one())

    def set_terminal(
        self, execution_id: int, expected_event_count: int, values: dict[str, Any]
    ) -> bool:
        """End a running execution if nobody appended to its history meanwhile."""
        result = self.conn.execute(
            update(executions)
            .where(
                executions.c.id == execution_id,
                executions.c.status == "RUNNING",
                executions.c.event_count == expected_event_count,
            )
            .values(**values)
        )
        return result.rowcount == 1

    # --- history -----------------------------------------------------------------------------
    def append_events(self, execution_id: int, events: list[dict[str, Any]]) -> None:
        """Bulk-insert history events of one execution (one executemany)."""
        self.insert_events([{"execution_id": execution_id, **e} for e in events])

    def insert_events(self, rows: list[dict[str, Any]]) -> None:
        """Bulk-insert history event rows that name their execution (one executemany).

        The driver gets the rows as they are: the columns are plain numbers and text, and
        SQLAlchemy's per-row parameter processing was most of the cost of a large Map's
        commit (bench/PROFILES.md)."""
        if not rows:
            return
        if self.conn.dialect.name == "postgresql" and len(rows) >= _COPY_FROM_ROWS:
            values = [[row[column] for column in _EVENT_COLUMNS] for row in rows]
            driver.copy_rows(self.conn, _COPY_EVENTS, values)
            return
        driver.execute_many(self.conn, _RAW_INSERT_EVENTS[self.conn.dialect.name], rows)

    def events(
        self,
        execution_id: int,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[dict[str, Any]]:
        """History events in id order (or reversed), within (after_id, before_id)."""
        query = select(
            history_events.c.event_id,
            history_events.c.previous_event_id,
            history_events.c.type,
            history_events.c.timestamp,
            history_events.c.details,
        ).where(history_events.c.execution_id == execution_id)
        conditions = [history_events.c.event_id > after_id]
        if before_id is not None:
            conditions.append(history_events.c.event_id < before_id)
        query = query.where(and_(*conditions))
        order = history_events.c.event_id.desc() if reverse else history_events.c.event_id
        query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def reopen(self, execution_id: int, now: float) -> None:
        """A redriven execution runs again."""
        self.conn.execute(
            update(executions)
            .where(executions.c.id == execution_id)
            .values(
                status="RUNNING",
                stop_date=None,
                output=None,
                error=None,
                cause=None,
                redrive_count=executions.c.redrive_count + 1,
                redrive_date=now,
            )
        )

    def running_children(self, parent_id: int) -> list[dict[str, Any]]:
        """Running executions started by ``parent_id``."""
        rows = self.conn.execute(
            select(executions).where(
                executions.c.parent_id == parent_id, executions.c.status == "RUNNING"
            )
        ).mappings()
        return [dict(r) for r in rows]

    def by_state_machine_and_name(self, state_machine_arn: str, name: str) -> dict[str, Any] | None:
        """An execution by state machine and name (StartExecution idempotency)."""
        row = (
            self.conn.execute(
                select(executions).where(
                    executions.c.state_machine_arn == state_machine_arn,
                    executions.c.name == name,
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None


def lease_free(now: Any) -> Any:
    """SQL condition: the execution's lease is unset or expired by ``now`` (a time, or the
    bound parameter of a statement built once)."""
    return or_(executions.c.lease_expires.is_(None), executions.c.lease_expires < now)
