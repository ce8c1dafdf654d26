"""SQS-compatible queues: queue rows, their messages, FIFO deduplication and move tasks.

Receives must hand a message to one receiver at a time. On PostgreSQL a standard queue's
receive locks the candidate rows with ``FOR UPDATE SKIP LOCKED`` so concurrent receivers take
different messages; a FIFO receive first locks the queue row, because group ordering is a
property of the whole queue (two receivers must never hold messages of one group at once).
On SQLite every transaction is ``BEGIN IMMEDIATE`` and writers are already serialised.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from engine.store.tables import (
    queue_dedup,
    queue_messages,
    queue_move_tasks,
    queue_receive_attempts,
    queues,
)

# How many live messages a FIFO receive looks at to find the heads of its groups.
FIFO_SCAN_WINDOW = 500


class QueueRepository:
    """Rows of ``queues``, ``queue_messages``, ``queue_dedup``, ``queue_receive_attempts`` and
    ``queue_move_tasks``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    # --- queues -------------------------------------------------------------------------------
    def get(self, account: str, name: str, include_deleted: bool = False) -> dict[str, Any] | None:
        """A queue by account and name (a tombstone too when ``include_deleted``)."""
        query = select(queues).where(queues.c.account == account, queues.c.name == name)
        if not include_deleted:
            query = query.where(queues.c.deleted_at.is_(None))
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row else None

    def by_arn(self, arn: str) -> dict[str, Any] | None:
        """A live queue by ARN."""
        row = (
            self.conn.execute(
                select(queues).where(queues.c.arn == arn, queues.c.deleted_at.is_(None))
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def lock(self, queue_id: int) -> dict[str, Any] | None:
        """Re-read a queue row, locking it on PostgreSQL until the transaction ends."""
        query = select(queues).where(queues.c.id == queue_id, queues.c.deleted_at.is_(None))
        if self.postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row else None

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Create a queue (a live duplicate name raises IntegrityError)."""
        self.conn.execute(insert(queues).values(**row))
        found = self.get(row["account"], row["name"])
        assert found is not None
        return found

    def drop(self, queue_id: int) -> None:
        """Remove a queue row for good (an expired tombstone being replaced)."""
        self.conn.execute(delete(queues).where(queues.c.id == queue_id))

    def update(self, queue_id: int, **values: Any) -> None:
        """Change columns of a queue."""
        self.conn.execute(update(queues).where(queues.c.id == queue_id).values(**values))

    def mark_deleted(self, queue_id: int, now: float) -> None:
        """Delete a queue's messages and leave its row as a tombstone."""
        self.conn.execute(delete(queue_messages).where(queue_messages.c.queue_id == queue_id))
        self.conn.execute(delete(queue_dedup).where(queue_dedup.c.queue_id == queue_id))
        self.conn.execute(
            delete(queue_receive_attempts).where(queue_receive_attempts.c.queue_id == queue_id)
        )
        self.conn.execute(
            update(queues).where(queues.c.id == queue_id).values(deleted_at=now, dlq_arn=None)
        )

    def page(self, account: str, prefix: str, after: str, limit: int) -> list[dict[str, Any]]:
        """Live queues of an account whose names start with ``prefix``, by name after ``after``."""
        query = (
            select(queues)
            .where(
                queues.c.account == account,
                queues.c.deleted_at.is_(None),
                queues.c.name > after,
            )
            .order_by(queues.c.name)
            .limit(limit)
        )
        if prefix:
            # startswith() escapes LIKE wildcards; queue names cannot contain them anyway.
            query = query.where(queues.c.name.startswith(prefix, autoescape=True))
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def dead_letter_sources(self, dlq_arn: str, after: str, limit: int) -> list[dict[str, Any]]:
        """Live queues whose RedrivePolicy targets ``dlq_arn``, by name after ``after``."""
        query = (
            select(queues)
            .where(
                queues.c.dlq_arn == dlq_arn, queues.c.deleted_at.is_(None), queues.c.name > after
            )
            .order_by(queues.c.name)
            .limit(limit)
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def next_sequence(self, queue_id: int) -> int:
        """Take the queue's next FIFO sequence number (the UPDATE also locks the row)."""
        self.conn.execute(
            update(queues).where(queues.c.id == queue_id).values(sequence=queues.c.sequence + 1)
        )
        value = self.conn.execute(select(queues.c.sequence).where(queues.c.id == queue_id)).scalar()
        return int(value or 0)

    # --- messages -----------------------------------------------------------------------------
    def add_message(self, row: dict[str, Any]) -> int:
        """Enqueue a message; returns its row id."""
        result = self.conn.execute(insert(queue_messages).values(**row))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def message(self, row_id: int) -> dict[str, Any] | None:
        """A message row by id."""
        row = (
            self.conn.execute(select(queue_messages).where(queue_messages.c.id == row_id))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def expire(self, queue_id: int, cutoff: float) -> int:
        """Delete messages sent at or before ``cutoff`` (past their retention period)."""
        result = self.conn.execute(
            delete(queue_messages).where(
                queue_messages.c.queue_id == queue_id, queue_messages.c.sent_at <= cutoff
            )
        )
        return int(result.rowcount or 0)

    def visible(
        self, queue_id: int, now: float, limit: int, sent_after: float
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` visible messages of a standard queue sent after ``sent_after`` (the
        rest are past their retention), oldest first, claimed for this transaction (rows
        other receivers hold are skipped on PostgreSQL)."""
        query = (
            select(queue_messages)
            .where(
                queue_messages.c.queue_id == queue_id,
                queue_messages.c.visible_at <= now,
                queue_messages.c.sent_at > sent_after,
            )
            .order_by(queue_messages.c.id)
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def fifo_window(self, queue_id: int, now: float) -> list[dict[str, Any]]:
        """Live messages of a FIFO queue, oldest first, leaving out every group that has a
        message in flight (received and not yet visible again). Call with the queue locked."""
        busy = (
            select(queue_messages.c.group_id)
            .where(
                queue_messages.c.queue_id == queue_id,
                queue_messages.c.visible_at > now,
                queue_messages.c.receive_count > 0,
            )
            .distinct()
        )
        query = (
            select(queue_messages)
            .where(queue_messages.c.queue_id == queue_id, queue_messages.c.group_id.not_in(busy))
            .order_by(queue_messages.c.id)
            .limit(FIFO_SCAN_WINDOW)
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def mark_received(self, row_id: int, receipt: str, visible_at: float, now: float) -> None:
        """Record one more receive: a new receipt nonce and the end of its visibility timeout."""
        self.conn.execute(
            update(queue_messages)
            .where(queue_messages.c.id == row_id)
            .values(
                receive_count=queue_messages.c.receive_count + 1,
                first_received_at=func.coalesce(queue_messages.c.first_received_at, now),
                receipt=receipt,
                visible_at=visible_at,
            )
        )

    def update_message(self, row_id: int, **values: Any) -> None:
        """Change columns of a message (visibility, or moving it to another queue)."""
        self.conn.execute(
            update(queue_messages).where(queue_messages.c.id == row_id).values(**values)
        )

    def delete_message(self, row_id: int) -> None:
        """Remove a message."""
        self.conn.execute(delete(queue_messages).where(queue_messages.c.id == row_id))

    def counts(self, queue_id: int, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed) message counts."""
        m = queue_messages.c
        row = self.conn.execute(
            select(
                func.count().filter(m.visible_at <= now),
                func.count().filter(and_(m.visible_at > now, m.receive_count > 0)),
                func.count().filter(and_(m.visible_at > now, m.receive_count == 0)),
            ).where(m.queue_id == queue_id)
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def purge(self, queue_id: int) -> None:
        """Delete every message of a queue."""
        self.conn.execute(delete(queue_messages).where(queue_messages.c.queue_id == queue_id))

    def oldest(self, queue_id: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` messages of a queue, oldest first (message move tasks)."""
        query = (
            select(queue_messages)
            .where(queue_messages.c.queue_id == queue_id)
            .order_by(queue_messages.c.id)
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def count(self, queue_id: int) -> int:
        """How many messages a queue holds."""
        value = self.conn.execute(
            select(func.count()).where(queue_messages.c.queue_id == queue_id)
        ).scalar()
        return int(value or 0)

    # --- FIFO deduplication -------------------------------------------------------------------
    def dedup_find(self, queue_id: int, key: str, now: float) -> dict[str, Any] | None:
        """The message a deduplication key was first used for, if still inside its window."""
        row = (
            self.conn.execute(
                select(queue_dedup).where(
                    queue_dedup.c.queue_id == queue_id,
                    queue_dedup.c.dedup_key == key,
                    queue_dedup.c.expires_at > now,
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def dedup_remember(
        self, queue_id: int, key: str, message_id: str, sequence: int | None, expires_at: float
    ) -> None:
        """Start a deduplication window (replacing an expired entry of the same key)."""
        self.conn.execute(
            delete(queue_dedup).where(
                queue_dedup.c.queue_id == queue_id, queue_dedup.c.dedup_key == key
            )
        )
        self.conn.execute(
            insert(queue_dedup).values(
                queue_id=queue_id,
                dedup_key=key,
                message_id=message_id,
                sequence_number=sequence,
                expires_at=expires_at,
            )
        )

    def dedup_expire(self, queue_id: int, now: float) -> None:
        """Forget deduplication keys whose window has closed."""
        self.conn.execute(
            delete(queue_dedup).where(
                queue_dedup.c.queue_id == queue_id, queue_dedup.c.expires_at <= now
            )
        )

    # --- FIFO receive attempts ----------------------------------------------------------------
    def receive_attempt(self, queue_id: int, attempt_id: str, since: float) -> str | None:
        """What a receive attempt returned (its JSON), if made after ``since``."""
        value = self.conn.execute(
            select(queue_receive_attempts.c.messages).where(
                queue_receive_attempts.c.queue_id == queue_id,
                queue_receive_attempts.c.attempt_id == attempt_id,
                queue_receive_attempts.c.created_at > since,
            )
        ).scalar()
        return None if value is None else str(value)

    def remember_attempt(
        self, queue_id: int, attempt_id: str, now: float, messages: str, since: float
    ) -> None:
        """Record what a receive attempt returned; forget the queue's attempts made before
        ``since`` (no retry may use them any more)."""
        self.conn.execute(
            delete(queue_receive_attempts).where(
                queue_receive_attempts.c.queue_id == queue_id,
                (queue_receive_attempts.c.attempt_id == attempt_id)
                | (queue_receive_attempts.c.created_at <= since),
            )
        )
        self.conn.execute(
            insert(queue_receive_attempts).values(
                queue_id=queue_id, attempt_id=attempt_id, created_at=now, messages=messages
            )
        )

    def messages_by_id(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Messages by row id (those still stored)."""
        rows = self.conn.execute(
            select(queue_messages).where(queue_messages.c.id.in_(ids))
        ).mappings()
        return {int(r["id"]): dict(r) for r in rows}

    # --- message move tasks -------------------------------------------------------------------
    def add_move_task(self, row: dict[str, Any]) -> None:
        """Record a message move task."""
        self.conn.execute(insert(queue_move_tasks).values(**row))

    def move_task(self, handle: str) -> dict[str, Any] | None:
        """A move task by handle."""
        row = (
            self.conn.execute(select(queue_move_tasks).where(queue_move_tasks.c.handle == handle))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def move_tasks(self, source_arn: str, limit: int) -> list[dict[str, Any]]:
        """A source queue's move tasks, newest first."""
        rows = self.conn.execute(
            select(queue_move_tasks)
            .where(queue_move_tasks.c.source_arn == source_arn)
            .order_by(queue_move_tasks.c.started_at.desc())
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]

    def update_move_task(self, handle: str, **values: Any) -> None:
        """Change a move task's progress or status."""
        self.conn.execute(
            update(queue_move_tasks).where(queue_move_tasks.c.handle == handle).values(**values)
        )
