"""SNS-compatible topics: topic rows, their subscriptions and FIFO deduplication ids.

Publish reads a topic's subscriptions and hands each matching one's message to the queue
store in the same transaction (engine.services.topics.delivery), so the fan-out is as durable
as the Publish answer. A FIFO publish locks the topic row first (PostgreSQL): sequence numbers
and the deduplication check-then-insert must not interleave with another publish.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.store.tables import topic_dedup, topic_subscriptions, topics


class TopicRepository:
    """Rows of ``topics``, ``topic_subscriptions`` and ``topic_dedup``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    # --- topics -------------------------------------------------------------------------------
    def get(self, arn: str) -> dict[str, Any] | None:
        """A topic by ARN."""
        row = self.conn.execute(select(topics).where(topics.c.arn == arn)).mappings().first()
        return dict(row) if row else None

    def lock(self, arn: str) -> dict[str, Any] | None:
        """Re-read a topic row, locking it on PostgreSQL until the transaction ends."""
        query = select(topics).where(topics.c.arn == arn)
        if self.postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row else None

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Create a topic (an ARN already taken raises IntegrityError)."""
        self.conn.execute(insert(topics).values(**row))
        found = self.get(row["arn"])
        assert found is not None
        return found

    def update(self, topic_id: int, **values: Any) -> None:
        """Change columns of a topic (attributes, tags)."""
        self.conn.execute(update(topics).where(topics.c.id == topic_id).values(**values))

    def delete(self, topic: dict[str, Any]) -> None:
        """Remove a topic, its subscriptions and its deduplication ids."""
        self.conn.execute(
            delete(topic_subscriptions).where(topic_subscriptions.c.topic_arn == topic["arn"])
        )
        self.conn.execute(delete(topic_dedup).where(topic_dedup.c.topic_id == topic["id"]))
        self.conn.execute(delete(topics).where(topics.c.id == topic["id"]))

    def page(self, prefix: str, after: str, limit: int) -> list[dict[str, Any]]:
        """Topics whose ARN starts with ``prefix`` (one account in one region), by ARN, those
        after ``after``."""
        query = (
            select(topics)
            .where(topics.c.arn.startswith(prefix, autoescape=True), topics.c.arn > after)
            .order_by(topics.c.arn)
            .limit(limit)
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def next_sequence(self, topic_id: int) -> int:
        """Take the topic's next FIFO sequence number (the UPDATE also locks the row)."""
        self.conn.execute(
            update(topics).where(topics.c.id == topic_id).values(sequence=topics.c.sequence + 1)
        )
        value = self.conn.execute(select(topics.c.sequence).where(topics.c.id == topic_id)).scalar()
        return int(value or 0)

    # --- subscriptions ------------------------------------------------------------------------
    def subscription(self, arn: str) -> dict[str, Any] | None:
        """A subscription by ARN."""
        row = (
            self.conn.execute(select(topic_subscriptions).where(topic_subscriptions.c.arn == arn))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def find_subscription(
        self, topic_arn: str, protocol: str, endpoint: str
    ) -> dict[str, Any] | None:
        """The subscription of ``endpoint`` by ``protocol`` to a topic, if there is one."""
        s = topic_subscriptions.c
        row = (
            self.conn.execute(
                select(topic_subscriptions).where(
                    s.topic_arn == topic_arn, s.protocol == protocol, s.endpoint == endpoint
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def add_subscription(self, row: dict[str, Any]) -> dict[str, Any]:
        """Create a subscription."""
        self.conn.execute(insert(topic_subscriptions).values(**row))
        found = self.subscription(row["arn"])
        assert found is not None
        return found

    def update_subscription(self, arn: str, **values: Any) -> None:
        """Change columns of a subscription (attributes)."""
        self.conn.execute(
            update(topic_subscriptions).where(topic_subscriptions.c.arn == arn).values(**values)
        )

    def delete_subscription(self, arn: str) -> None:
        """Remove a subscription."""
        self.conn.execute(delete(topic_subscriptions).where(topic_subscriptions.c.arn == arn))

    def subscriptions_of(self, topic_arn: str) -> list[dict[str, Any]]:
        """Every subscription of a topic, oldest first (Publish's fan-out)."""
        query = (
            select(topic_subscriptions)
            .where(topic_subscriptions.c.topic_arn == topic_arn)
            .order_by(topic_subscriptions.c.id)
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def subscription_page(
        self, account: str, topic_arn: str | None, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """An account's subscriptions (of one topic, when given) by id, those after ``after``."""
        s = topic_subscriptions.c
        query = select(topic_subscriptions).where(s.account == account, s.id > after)
        if topic_arn is not None:
            query = query.where(s.topic_arn == topic_arn)
        query = query.order_by(s.id).limit(limit)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def subscription_counts(self, topic_arn: str) -> dict[str, int]:
        """How many subscriptions of a topic are in each status."""
        s = topic_subscriptions.c
        rows = self.conn.execute(
            select(s.status, func.count()).where(s.topic_arn == topic_arn).group_by(s.status)
        ).all()
        return {str(status): int(count) for status, count in rows}

    # --- FIFO deduplication -------------------------------------------------------------------
    def dedup_find(self, topic_id: int, key: str, now: float) -> dict[str, Any] | None:
        """The publish a deduplication key was first used for, if still inside its window."""
        d = topic_dedup.c
        row = (
            self.conn.execute(
                select(topic_dedup).where(
                    d.topic_id == topic_id, d.dedup_key == key, d.expires_at > now
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def dedup_remember(
        self, topic_id: int, key: str, message_id: str, sequence: int | None, expires_at: float
    ) -> None:
        """Start a deduplication window (replacing an expired entry of the same key)."""
        d = topic_dedup.c
        self.conn.execute(delete(topic_dedup).where(d.topic_id == topic_id, d.dedup_key == key))
        self.conn.execute(
            insert(topic_dedup).values(
                topic_id=topic_id,
                dedup_key=key,
                message_id=message_id,
                sequence_number=sequence,
                expires_at=expires_at,
            )
        )

    def dedup_expire(self, topic_id: int, now: float) -> None:
        """Forget deduplication keys whose window has closed."""
        d = topic_dedup.c
        self.conn.execute(delete(topic_dedup).where(d.topic_id == topic_id, d.expires_at <= now))
