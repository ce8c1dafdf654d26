"""State machine versions and aliases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.store.tables import (
    state_machine_aliases,
    state_machine_revisions,
    state_machine_versions,
    state_machines,
)

_VERSION_WITH_REVISION = select(
    state_machine_versions,
    state_machine_revisions.c.definition,
    state_machine_revisions.c.revision_uuid,
    state_machine_revisions.c.role_arn,
).join(
    state_machine_revisions, state_machine_revisions.c.id == state_machine_versions.c.revision_id
)


class VersionRepository:
    """Rows of ``state_machine_versions`` and ``state_machine_aliases``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- versions ----------------------------------------------------------------------------
    def get(self, arn: str) -> dict[str, Any] | None:
        """A version with its revision's definition and role, or None."""
        query = _VERSION_WITH_REVISION.where(state_machine_versions.c.arn == arn)
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row else None

    def of_revision(self, revision_id: int) -> dict[str, Any] | None:
        """The version published from a revision, if any."""
        row = (
            self.conn.execute(
                select(state_machine_versions).where(
                    state_machine_versions.c.revision_id == revision_id
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def next_number(self, state_machine_arn: str) -> int:
        """Take the state machine's next version number (never one used before)."""
        number = self.conn.execute(
            update(state_machines)
            .where(state_machines.c.arn == state_machine_arn)
            .values(last_version=state_machines.c.last_version + 1)
            .returning(state_machines.c.last_version)
        ).scalar_one()
        return int(number)

    def insert(self, row: dict[str, Any]) -> None:
        """Store a published version."""
        self.conn.execute(insert(state_machine_versions).values(**row))

    def count(self, state_machine_arn: str) -> int:
        """How many versions a state machine has now."""
        query = select(func.count()).where(
            state_machine_versions.c.state_machine_arn == state_machine_arn
        )
        return int(self.conn.execute(query).scalar_one())

    def page(self, state_machine_arn: str, before: int | None, limit: int) -> list[dict[str, Any]]:
        """Versions newest first, below version number ``before``."""
        query = select(state_machine_versions).where(
            state_machine_versions.c.state_machine_arn == state_machine_arn
        )
        if before is not None:
            query = query.where(state_machine_versions.c.version < before)
        query = query.order_by(state_machine_versions.c.version.desc()).limit(limit)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def delete(self, arn: str) -> None:
        """Remove a version (executions that run it keep its revision)."""
        self.conn.execute(delete(state_machine_versions).where(state_machine_versions.c.arn == arn))

    # --- aliases -----------------------------------------------------------------------------
    def alias(self, arn: str) -> dict[str, Any] | None:
        """An alias, or None."""
        row = (
            self.conn.execute(
                select(state_machine_aliases).where(state_machine_aliases.c.arn == arn)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def aliases(self, state_machine_arn: str) -> list[dict[str, Any]]:
        """Every alias of a state machine, newest first."""
        query = (
            select(state_machine_aliases)
            .where(state_machine_aliases.c.state_machine_arn == state_machine_arn)
            .order_by(state_machine_aliases.c.id.desc())
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def insert_alias(self, row: dict[str, Any]) -> None:
        """Store an alias."""
        self.conn.execute(insert(state_machine_aliases).values(**row))

    def update_alias(self, arn: str, **values: Any) -> None:
        """Change an alias's description or routing."""
        self.conn.execute(
            update(state_machine_aliases).where(state_machine_aliases.c.arn == arn).values(**values)
        )

    def delete_alias(self, arn: str) -> None:
        """Remove an alias."""
        self.conn.execute(delete(state_machine_aliases).where(state_machine_aliases.c.arn == arn))

    def drop_all(self, state_machine_arn: str) -> None:
        """Remove every version and alias of a deleted state machine."""
        for table in (state_machine_versions, state_machine_aliases):
            self.conn.execute(delete(table).where(table.c.state_machine_arn == state_machine_arn))
