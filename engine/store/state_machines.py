"""State machines, their revisions, and resource tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from engine.store.tables import state_machine_revisions, state_machines, tags

# Built once: StartExecution reads the state machine on every call.
_GET = (
    select(
        state_machines,
        state_machine_revisions.c.definition,
        state_machine_revisions.c.revision_uuid,
    )
    .join(state_machine_revisions, state_machine_revisions.c.id == state_machines.c.revision_id)
    .where(state_machines.c.arn == bindparam("arn"))
)


class StateMachineRepository:
    """Rows of ``state_machines`` and ``state_machine_revisions``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_revision(
        self, arn: str, revision_uuid: str, definition: str, role_arn: str, now: float
    ) -> int:
        """Store a definition; returns the revision's id."""
        result = self.conn.execute(
            insert(state_machine_revisions).values(
                state_machine_arn=arn,
                revision_uuid=revision_uuid,
                definition=definition,
                role_arn=role_arn,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def insert(self, row: dict[str, Any]) -> None:
        """Insert a state machine row (a duplicate ARN raises IntegrityError)."""
        self.conn.execute(insert(state_machines).values(**row))

    def get(self, arn: str) -> dict[str, Any] | None:
        """The state machine with its current definition, or None."""
        row = self.conn.execute(_GET, {"arn": arn}).mappings().first()
        return dict(row) if row else None

    def lock(self, arn: str) -> None:
        """Hold a state machine's row until the transaction ends (PostgreSQL; SQLite has one
        writer anyway), so that publishes and alias changes of one state machine take turns:
        each checks what exists (a version of this revision, an alias routing to a version)
        and then writes, which two at once would both get wrong."""
        query = select(state_machines.c.id).where(state_machines.c.arn == arn)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        self.conn.execute(query)

    def revision(self, revision_id: int) -> dict[str, Any] | None:
        """One stored definition."""
        row = (
            self.conn.execute(
                select(state_machine_revisions).where(state_machine_revisions.c.id == revision_id)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def update(self, arn: str, **values: Any) -> None:
        """Change columns of a state machine."""
        self.conn.execute(
            update(state_machines).where(state_machines.c.arn == arn).values(**values)
        )

    def delete(self, arn: str) -> None:
        """Remove a state machine (its revisions stay for executions that still run them)."""
        self.conn.execute(delete(state_machines).where(state_machines.c.arn == arn))

    def page(self, after_id: int, limit: int) -> list[dict[str, Any]]:
        """State machines in creation order, after ``after_id``."""
        rows = self.conn.execute(
            select(state_machines)
            .where(state_machines.c.id > after_id)
            .order_by(state_machines.c.id)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]


class TagRepository:
    """Tags of any resource, keyed by ARN."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, arn: str, values: dict[str, str]) -> None:
        """Add or replace tags."""
        for key, value in values.items():
            self.conn.execute(delete(tags).where(tags.c.resource_arn == arn, tags.c.key == key))
            self.conn.execute(insert(tags).values(resource_arn=arn, key=key, value=value))

    def remove(self, arn: str, keys: list[str]) -> None:
        """Remove tags by key."""
        if keys:
            self.conn.execute(delete(tags).where(tags.c.resource_arn == arn, tags.c.key.in_(keys)))

    def list(self, arn: str) -> dict[str, str]:
        """All tags of a resource."""
        rows = self.conn.execute(
            select(tags.c.key, tags.c.value).where(tags.c.resource_arn == arn).order_by(tags.c.key)
        )
        return {r.key: r.value for r in rows}

    def drop(self, arn: str) -> None:
        """Remove every tag of a deleted resource."""
        self.conn.execute(delete(tags).where(tags.c.resource_arn == arn))
