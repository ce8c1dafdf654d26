"""Distributed Map runs (the projection behind DescribeMapRun and ListMapRuns)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine.store.tables import map_runs


class MapRunRepository:
    """Rows of ``map_runs``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def started(self, row: dict[str, Any]) -> None:
        """Record a Map Run that began (idempotent: a replayed start changes nothing)."""
        if self.get(row["arn"]) is None:
            self.conn.execute(insert(map_runs).values(**row))

    def ended(self, arn: str, values: dict[str, Any]) -> None:
        """Record how a Map Run ended."""
        self.conn.execute(update(map_runs).where(map_runs.c.arn == arn).values(**values))

    def aborted(self, execution_id: int, now: float) -> None:
        """End an execution's Map Runs that are still running as ABORTED (the execution was
        stopped or ended around them); iterations not recorded as done count as aborted."""
        self.conn.execute(
            update(map_runs)
            .where(map_runs.c.execution_id == execution_id, map_runs.c.status == "RUNNING")
            .values(
                status="ABORTED",
                stop_date=now,
                aborted=map_runs.c.total - map_runs.c.succeeded - map_runs.c.failed,
            )
        )

    def get(self, arn: str) -> dict[str, Any] | None:
        """A Map Run by ARN."""
        row = self.conn.execute(select(map_runs).where(map_runs.c.arn == arn)).mappings().first()
        return dict(row) if row else None

    def page(self, execution_arn: str, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Map Runs of an execution in start order."""
        rows = self.conn.execute(
            select(map_runs)
            .where(map_runs.c.execution_arn == execution_arn, map_runs.c.id > after_id)
            .order_by(map_runs.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    def update(self, arn: str, values: dict[str, Any]) -> None:
        """Change a Map Run's settings (UpdateMapRun)."""
        self.conn.execute(update(map_runs).where(map_runs.c.arn == arn).values(**values))
