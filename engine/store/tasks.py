"""Tasks handed to workers, activities, and the functions workers serve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from engine.store.tables import activities, functions, tasks


def _pick(skip_locked: bool) -> Any:
    """The oldest scheduled task of a kind among some resources (a worker's poll)."""
    query = (
        select(tasks)
        .where(
            tasks.c.kind == bindparam("kind"),
            tasks.c.resource.in_(bindparam("resources", expanding=True)),
            tasks.c.status == "SCHEDULED",
        )
        .order_by(tasks.c.id)
        .limit(1)
    )
    return query.with_for_update(skip_locked=True) if skip_locked else query


# Built once: every long poll and every answer runs these, and building a statement costs
# more than executing it.
_PICK = _pick(skip_locked=False)
_PICK_PG = _pick(skip_locked=True)
_START = (
    update(tasks)
    .where(tasks.c.id == bindparam("id_"), tasks.c.status == "SCHEDULED")
    .values(
        status="STARTED",
        worker_name=bindparam("worker"),
        started_at=bindparam("now"),
        heartbeat_at=bindparam("heartbeat"),
    )
)
_NEXT_DEADLINE = select(func.min(tasks.c.timeout_at), func.min(tasks.c.heartbeat_at)).where(
    tasks.c.status != "DONE"
)


class TaskRepository:
    """Rows of ``tasks``, ``activities`` and ``functions``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- tasks -------------------------------------------------------------------------------
    def insert(self, row: dict[str, Any]) -> None:
        """Schedule a task."""
        self.conn.execute(insert(tasks).values(**row))

    def by_token(self, token: str) -> dict[str, Any] | None:
        """A task by its token."""
        row = self.conn.execute(select(tasks).where(tasks.c.token == token)).mappings().first()
        return dict(row) if row else None

    def for_request(self, execution_id: int, request_seq: int) -> dict[str, Any] | None:
        """The task an execution's request created, if it created one."""
        row = (
            self.conn.execute(
                select(tasks).where(
                    tasks.c.execution_id == execution_id, tasks.c.request_seq == request_seq
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def claim(
        self, kind: str, resources: list[str], worker: str, now: float
    ) -> dict[str, Any] | None:
        """Hand the oldest scheduled task of these resources to ``worker``."""
        pick = _PICK_PG if self.conn.dialect.name == "postgresql" else _PICK
        row = self.conn.execute(pick, {"kind": kind, "resources": resources}).mappings().first()
        if row is None:
            return None
        heartbeat = row["heartbeat_seconds"]
        values: dict[str, Any] = {"status": "STARTED", "worker_name": worker, "started_at": now}
        if heartbeat:
            values["heartbeat_at"] = now + heartbeat
        result = self.conn.execute(
            _START,
            {
                "id_": row["id"],
                "worker": worker,
                "now": now,
                "heartbeat": values.get("heartbeat_at", row["heartbeat_at"]),
            },
        )
        if result.rowcount != 1:
            return None
        return {**dict(row), **values}

    def finish(self, task_id: int) -> bool:
        """Close a task; False if it was already closed (a repeated or late answer)."""
        result = self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status != "DONE")
            .values(status="DONE")
        )
        return result.rowcount == 1

    def heartbeat(self, task_id: int, now: float, seconds: int | None) -> None:
        """Push a started task's heartbeat deadline forward."""
        self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(heartbeat_at=now + seconds if seconds else None)
        )

    def overdue(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Open tasks whose timeout or heartbeat deadline has passed."""
        query = (
            select(tasks)
            .where(
                tasks.c.status != "DONE",
                or_(tasks.c.timeout_at <= now, tasks.c.heartbeat_at <= now),
            )
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def next_deadline(self) -> float | None:
        """The earliest open timeout or heartbeat deadline."""
        row = self.conn.execute(_NEXT_DEADLINE).first()
        deadlines = [d for d in row or () if d is not None]
        return min(deadlines) if deadlines else None

    def close_for_execution(self, execution_id: int) -> None:
        """An ended execution's open tasks can no longer be answered."""
        self.conn.execute(
            update(tasks)
            .where(tasks.c.execution_id == execution_id, tasks.c.status != "DONE")
            .values(status="DONE")
        )

    # --- activities --------------------------------------------------------------------------
    def add_activity(self, arn: str, name: str, now: float) -> dict[str, Any]:
        """Create an activity, or return the existing one of that ARN."""
        existing = self.activity(arn)
        if existing is not None:
            return existing
        self.conn.execute(insert(activities).values(arn=arn, name=name, created_at=now))
        found = self.activity(arn)
        assert found is not None
        return found

    def activity(self, arn: str) -> dict[str, Any] | None:
        """An activity by ARN."""
        row = (
            self.conn.execute(select(activities).where(activities.c.arn == arn)).mappings().first()
        )
        return dict(row) if row else None

    def delete_activity(self, arn: str) -> None:
        """Remove an activity."""
        self.conn.execute(delete(activities).where(activities.c.arn == arn))

    def activity_page(self, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Activities in creation order."""
        rows = self.conn.execute(
            select(activities)
            .where(activities.c.id > after_id)
            .order_by(activities.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    # --- functions ---------------------------------------------------------------------------
    def announce_functions(self, names: list[str], now: float) -> None:
        """Record that a worker serves these function names (an upsert: workers poll at once)."""
        table = functions
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        for name in names:
            statement = upsert(table).values(name=name, last_seen=now)
            self.conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.name], set_={"last_seen": now}
                )
            )

    def function_known(self, name: str) -> bool:
        """Whether any worker ever announced this function."""
        row = self.conn.execute(select(functions.c.name).where(functions.c.name == name)).first()
        return row is not None
