"""The durable runtime's rows: leases on runnable executions, resolutions and timers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Integer, bindparam, case, delete, insert, select, update

from engine.store.executions import lease_free
from engine.store.tables import executions, resolutions, timers

_TERMINAL_COLUMNS = ("status", "stop_date", "output", "error", "cause")


def _decision_update(terminal: bool, leased: bool = True) -> Any:
    """The conditional UPDATE that commits a decision, built once (statement construction
    costs more than execution on the decider's hot path)."""
    values: dict[str, Any] = {
        "runnable": case((executions.c.resolution_count > bindparam("applied"), 1), else_=0),
        "lease_owner": None,
        "lease_expires": None,
        "applied_count": bindparam("applied"),
        "event_count": bindparam("event_count"),
        "request_seq": bindparam("request_seq"),
    }
    if terminal:
        for column in _TERMINAL_COLUMNS:
            values[column] = bindparam(column)
    conditions = [
        executions.c.id == bindparam("id_"),
        executions.c.event_count == bindparam("expected"),
        executions.c.status == "RUNNING",
    ]
    if leased:
        conditions.append(executions.c.lease_owner == bindparam("owner"))
    return update(executions).where(*conditions).values(**values)


_CONTINUE_DECISION = _decision_update(terminal=False)
_END_DECISION = _decision_update(terminal=True)
_FOLLOW_CONTINUE = _decision_update(terminal=False, leased=False)
_FOLLOW_END = _decision_update(terminal=True, leased=False)


def _decision_statement(
    owner: str,
    execution_id: int,
    expected: int,
    values: dict[str, Any],
    applied: int,
    leased: bool = True,
) -> tuple[Any, dict[str, Any]]:
    """The conditional UPDATE that records a decision, and its parameters (``leased``: on
    the condition that ``owner`` holds the lease)."""
    params = {
        "id_": execution_id,
        "owner": owner,
        "expected": expected,
        "applied": applied,
        "event_count": values["event_count"],
        "request_seq": values["request_seq"],
    }
    if "status" not in values:
        return (_CONTINUE_DECISION if leased else _FOLLOW_CONTINUE), params
    params.update({k: values[k] for k in _TERMINAL_COLUMNS})
    return (_END_DECISION if leased else _FOLLOW_END), params


_COMPILED: dict[tuple[int, str], Any] = {}


def _driver_form(conn: Connection, statement: Any, params: dict[str, Any]) -> tuple[str, Any]:
    """SQL text and parameters as the driver takes them (compiled once per statement)."""
    key = (id(statement), conn.dialect.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = statement.compile(dialect=conn.dialect)
    return str(compiled), compiled.construct_params(params)


def _claim_statement(skip_locked: bool, one: bool = False) -> Any:
    """The UPDATE .. RETURNING that leases the oldest runnable executions whose lease is free
    (``one``: a given one) and returns their rows, built once for the decider's hot path (an
    empty claim is its most frequent statement)."""
    candidates = (
        select(executions.c.id)
        .where(
            executions.c.runnable == 1,
            lease_free(bindparam("now")),
        )
        .order_by(executions.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if one:
        candidates = candidates.where(executions.c.id == bindparam("only"))
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(executions)
        .where(executions.c.id.in_(candidates.scalar_subquery()))
        .values(lease_owner=bindparam("owner_"), lease_expires=bindparam("expires"))
        .returning(*executions.c)
    )


_CLAIM = _claim_statement(skip_locked=False)
_CLAIM_PG = _claim_statement(skip_locked=True)
_CLAIM_ONE = _claim_statement(skip_locked=False, one=True)
_CLAIM_ONE_PG = _claim_statement(skip_locked=True, one=True)


class RuntimeRepository:
    """Claiming, committing and waking executions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Resolutions this transaction wrote, by execution (resolve_all).
        self.written: dict[int, list[dict[str, Any]]] = {}

    def claim_rows(
        self, owner: str, now: float, lease_seconds: float, limit: int, only: int | None = None
    ) -> list[dict[str, Any]]:
        """Lease up to ``limit`` runnable executions for ``owner`` (``only``: just that one, if
        it is runnable and free); returns their rows in id order (the decider reads them
        anyway: one statement instead of a claim and a read).

        UPDATE .. WHERE id IN (the oldest runnable, unleased ids) RETURNING the rows.
        PostgreSQL skips rows another node is claiming (FOR UPDATE SKIP LOCKED); SQLite has a
        single writer, and the caller's BEGIN IMMEDIATE already serialises claims."""
        pg = self.conn.dialect.name == "postgresql"
        if only is None:
            statement = _CLAIM_PG if pg else _CLAIM
        else:
            statement = _CLAIM_ONE_PG if pg else _CLAIM_ONE
        params = {"now": now, "owner_": owner, "expires": now + lease_seconds, "limit": limit}
        if only is not None:
            params["only"] = only
        rows = [dict(row) for row in self.conn.execute(statement, params).mappings()]
        return sorted(rows, key=lambda row: row["id"])

    def acknowledges_nothing(self) -> None:
        """Let this transaction commit without waiting for its WAL flush (PostgreSQL).

        For a transaction that only takes leases: no caller is told of it, and should the
        database lose it in a crash the executions are simply runnable and unleased again.
        Its record still reaches disk before any later durable commit (the WAL is written in
        order), so a decision committed under the lease never outlives the lease's record.
        SQLite's commits do not wait for a flush here anyway (WAL, synchronous=NORMAL)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def resolutions(self, execution_id: int, after_seq: int = 0) -> list[dict[str, Any]]:
        """Resolutions of an execution in the order they arrived."""
        rows = self.conn.execute(
            select(resolutions.c.seq, resolutions.c.request_seq, resolutions.c.value)
            .where(resolutions.c.execution_id == execution_id, resolutions.c.seq > after_seq)
            .order_by(resolutions.c.seq)
        ).mappings()
        return [dict(r) for r in rows]

    def commit_decision(
        self,
        execution_id: int,
        owner: str,
        expected_event_count: int,
        values: dict[str, Any],
        applied_count: int,
    ) -> bool:
        """Record a decision's outcome if ``owner`` still holds the lease and nobody else
        appended to the history; release the lease. False means the decision is void."""
        statement, params = _decision_statement(
            owner, execution_id, expected_event_count, values, applied_count
        )
        return self.conn.execute(statement, params).rowcount == 1

    def commit_decisions(
        self, owner: str, batch: list[tuple[int, int, dict[str, Any], int]]
    ) -> list[bool]:
        """``commit_decision`` for many executions, each given as (execution id, expected
        event count, values, applied count); which of them were recorded.

        On PostgreSQL the conditional UPDATEs go out in one pipeline (one network round trip
        for the batch instead of one per execution), each still with its own row count."""
        if self.conn.dialect.name != "postgresql" or len(batch) < 2:
            return [self.commit_decision(i, owner, e, v, a) for i, e, v, a in batch]
        driver = self.conn.connection.driver_connection
        assert driver is not None
        cursors = []
        with driver.pipeline():
            for decision in batch:
                statement, params = _decision_statement(owner, *decision)
                sql, bound = _driver_form(self.conn, statement, params)
                cursor = driver.cursor()
                cursor.execute(sql, bound)
                cursors.append(cursor)
        return [cursor.rowcount == 1 for cursor in cursors]

    def follow_decision(
        self, execution_id: int, expected: int, values: dict[str, Any], applied: int
    ) -> bool:
        """Record a follow-on decision in the transaction that recorded the first one (its
        lease already released there; the row stays locked until the commit)."""
        statement, params = _decision_statement(
            "", execution_id, expected, values, applied, leased=False
        )
        return self.conn.execute(statement, params).rowcount == 1

    def release(self, execution_id: int, owner: str) -> None:
        """Give a lease back without deciding (the execution stays runnable)."""
        self.conn.execute(
            update(executions)
            .where(executions.c.id == execution_id, executions.c.lease_owner == owner)
            .values(lease_owner=None, lease_expires=None)
        )

    def add_timers(self, execution_id: int, due: list[tuple[int, float]]) -> None:
        """Schedule timers: (request_seq, due_at) pairs."""
        if due:
            self.conn.execute(
                insert(timers),
                [{"execution_id": execution_id, "request_seq": s, "due_at": d} for s, d in due],
            )

    def drop_timers(self, execution_id: int) -> None:
        """Forget an ended execution's timers."""
        self.conn.execute(delete(timers).where(timers.c.execution_id == execution_id))

    def due_timers(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Timers whose time has come, earliest first."""
        query = select(timers).where(timers.c.due_at <= now).order_by(timers.c.due_at).limit(limit)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def next_timer_due(self) -> float | None:
        """When the earliest timer is due, if any."""
        row = self.conn.execute(select(timers.c.due_at).order_by(timers.c.due_at).limit(1)).first()
        return float(row.due_at) if row else None

    def delete_timer(self, timer_id: int) -> None:
        """Remove a fired timer."""
        self.conn.execute(delete(timers).where(timers.c.id == timer_id))

    def resolve(self, execution_id: int, request_seq: int, value: str | None, now: float) -> bool:
        """Append a resolution and mark the execution runnable; False if it no longer runs."""
        return self.resolve_all(execution_id, [(request_seq, value)], now)

    def resolve_all(
        self, execution_id: int, answers: list[tuple[int, str | None]], now: float
    ) -> bool:
        """Append resolutions (request_seq, value) in order with one update and one insert;
        False if the execution no longer runs. This transaction remembers what it wrote
        (``written``), so a decision in it need not read its own answers back (``unapplied``)."""
        row = self.conn.execute(
            update(executions)
            .where(executions.c.id == execution_id, executions.c.status == "RUNNING")
            .values(resolution_count=executions.c.resolution_count + len(answers), runnable=1)
            .returning(executions.c.resolution_count)
        ).first()
        if row is None:
            return False
        first = row.resolution_count - len(answers) + 1
        rows = [
            {
                "execution_id": execution_id,
                "seq": first + offset,
                "request_seq": request_seq,
                "value": value,
                "created_at": now,
            }
            for offset, (request_seq, value) in enumerate(answers)
        ]
        self.conn.execute(insert(resolutions), rows)
        self.written.setdefault(execution_id, []).extend(rows)
        return True

    def unapplied(self, execution_id: int, applied: int) -> list[dict[str, Any]]:
        """The resolutions after ``applied``, in order. Those this transaction wrote itself are
        not read back when they are all of them: their numbers follow ``applied`` without a
        gap, and the row is locked by this transaction since, so nobody appended after them."""
        rows = [r for r in self.written.get(execution_id, ()) if r["seq"] > applied]
        if rows and rows[0]["seq"] == applied + 1:
            return rows
        return self.resolutions(execution_id, applied)

    def end_with(self, execution_id: int, request_seq: int, value: str | None, now: float) -> None:
        """Record the answer that ended an execution outside a decision (an abort), once its
        row is no longer RUNNING: the resolutions no decision applied yet are dropped (the
        answer wins over them) and this one follows the applied ones, so that replaying the
        resolutions rebuilds exactly the recorded history. Call it after the row is updated
        in the same transaction: the row lock keeps ``applied_count`` still."""
        applied = self.conn.execute(
            update(executions)
            .where(executions.c.id == execution_id)
            .values(resolution_count=executions.c.applied_count + 1)
            .returning(executions.c.applied_count)
        ).scalar_one()
        self.conn.execute(
            delete(resolutions).where(
                resolutions.c.execution_id == execution_id, resolutions.c.seq > applied
            )
        )
        self.conn.execute(
            insert(resolutions).values(
                execution_id=execution_id,
                seq=applied + 1,
                request_seq=request_seq,
                value=value,
                created_at=now,
            )
        )

    def last_request_answered(self, execution_id: int) -> int | None:
        """The request number of an execution's latest resolution, if it has any."""
        return self.conn.execute(
            select(resolutions.c.request_seq)
            .where(resolutions.c.execution_id == execution_id)
            .order_by(resolutions.c.seq.desc())
            .limit(1)
        ).scalar()
