"""Kinesis-compatible data streams: stream rows, their shards and the shards' records.

A record's place in its shard is ``position``, taken from the shard row's ``last_position``
counter by the UPDATE that also locks that row (PostgreSQL) until the writer commits; on SQLite
every writer is already alone (BEGIN IMMEDIATE). So positions grow in commit order and a reader
that has seen a record has also seen every record of lower position in that shard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.store.tables import stream_records, stream_shards, streams


class StreamRepository:
    """Rows of ``streams``, ``stream_shards`` and ``stream_records``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    # --- streams ------------------------------------------------------------------------------
    def get(self, account: str, name: str) -> dict[str, Any] | None:
        """A stream by account and name."""
        row = (
            self.conn.execute(
                select(streams).where(streams.c.account == account, streams.c.name == name)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def by_id(self, stream_id: int) -> dict[str, Any] | None:
        """A stream by row id (an iterator names its stream so)."""
        row = self.conn.execute(select(streams).where(streams.c.id == stream_id)).mappings().first()
        return dict(row) if row else None

    def lock(self, stream_id: int) -> dict[str, Any] | None:
        """Re-read a stream row, locking it on PostgreSQL until the transaction ends: changes of
        the shard map (split, merge, rescale) and of retention run one at a time per stream."""
        query = select(streams).where(streams.c.id == stream_id)
        if self.postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row else None

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Create a stream (a duplicate name raises IntegrityError)."""
        self.conn.execute(insert(streams).values(**row))
        found = self.get(row["account"], row["name"])
        assert found is not None
        return found

    def update(self, stream_id: int, **values: Any) -> None:
        """Change columns of a stream."""
        self.conn.execute(update(streams).where(streams.c.id == stream_id).values(**values))

    def delete(self, stream_id: int) -> None:
        """Remove a stream with its shards and records."""
        self.conn.execute(delete(stream_records).where(stream_records.c.stream_id == stream_id))
        self.conn.execute(delete(stream_shards).where(stream_shards.c.stream_id == stream_id))
        self.conn.execute(delete(streams).where(streams.c.id == stream_id))

    def page(self, account: str, after: str, limit: int) -> list[dict[str, Any]]:
        """Streams of an account by name, after ``after``."""
        query = (
            select(streams)
            .where(streams.c.account == account, streams.c.name > after)
            .order_by(streams.c.name)
            .limit(limit)
        )
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def open_shard_count(self, account: str) -> int:
        """How many open shards the account's streams hold (its shard quota counts these)."""
        value = self.conn.execute(
            select(func.count())
            .select_from(stream_shards.join(streams, streams.c.id == stream_shards.c.stream_id))
            .where(streams.c.account == account, stream_shards.c.closed_at.is_(None))
        ).scalar()
        return int(value or 0)

    # --- shards -------------------------------------------------------------------------------
    def shards(self, stream_id: int, open_only: bool = False) -> list[dict[str, Any]]:
        """A stream's shards by index (only the open ones when ``open_only``)."""
        query = select(stream_shards).where(stream_shards.c.stream_id == stream_id)
        if open_only:
            query = query.where(stream_shards.c.closed_at.is_(None))
        rows = self.conn.execute(query.order_by(stream_shards.c.shard_index)).mappings()
        return [dict(r) for r in rows]

    def shard(self, stream_id: int, index: int) -> dict[str, Any] | None:
        """One shard."""
        row = (
            self.conn.execute(
                select(stream_shards).where(
                    stream_shards.c.stream_id == stream_id, stream_shards.c.shard_index == index
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def add_shards(self, rows: list[dict[str, Any]]) -> None:
        """Create shards."""
        if rows:
            self.conn.execute(insert(stream_shards), rows)

    def take_positions(self, stream_id: int, index: int, count: int) -> int | None:
        """Reserve ``count`` positions of an open shard; returns the last one reserved (the
        others precede it), or None when the shard has been closed meanwhile."""
        value = self.conn.execute(
            update(stream_shards)
            .where(*_open_shard(stream_id, index))
            .values(last_position=stream_shards.c.last_position + count)
            .returning(stream_shards.c.last_position)
        ).scalar()
        return None if value is None else int(value)

    def close_shard(self, stream_id: int, index: int, now: float) -> bool:
        """Close an open shard at its last position (False if it was closed already)."""
        result = self.conn.execute(
            update(stream_shards)
            .where(*_open_shard(stream_id, index))
            .values(closed_at=now, ending_position=stream_shards.c.last_position)
        )
        return bool(result.rowcount)

    # --- records ------------------------------------------------------------------------------
    def add_records(self, rows: list[dict[str, Any]]) -> None:
        """Append records (their positions were taken with take_positions)."""
        if rows:
            self.conn.execute(insert(stream_records), rows)

    def sizes_after(
        self, stream_id: int, index: int, after: int, since: float, limit: int
    ) -> list[tuple[int, float, int]]:
        """(position, arrival, data length) of up to ``limit`` records of a shard past
        ``after`` that arrived after ``since`` (older ones are past retention), in order."""
        r = stream_records.c
        rows = self.conn.execute(
            select(r.position, r.arrived_at, func.length(r.data))
            .where(
                r.stream_id == stream_id,
                r.shard_index == index,
                r.position > after,
                r.arrived_at > since,
            )
            .order_by(r.position)
            .limit(limit)
        )
        return [(int(p), float(a), int(n or 0)) for p, a, n in rows]

    def records_between(
        self, stream_id: int, index: int, after: int, last: int, since: float
    ) -> list[dict[str, Any]]:
        """The records of a shard with ``after < position <= last`` still in retention."""
        r = stream_records.c
        rows = self.conn.execute(
            select(stream_records)
            .where(
                r.stream_id == stream_id,
                r.shard_index == index,
                r.position > after,
                r.position <= last,
                r.arrived_at > since,
            )
            .order_by(r.position)
        ).mappings()
        return [dict(row) for row in rows]

    def first_arrived_at_or_after(self, stream_id: int, index: int, when: float) -> int | None:
        """The position of a shard's first record that arrived at or after ``when``."""
        r = stream_records.c
        value = self.conn.execute(
            select(func.min(r.position)).where(
                r.stream_id == stream_id, r.shard_index == index, r.arrived_at >= when
            )
        ).scalar()
        return None if value is None else int(value)

    def purge(self, stream_id: int, before: float) -> int:
        """Delete a stream's records that arrived at or before ``before`` (past retention)."""
        result = self.conn.execute(
            delete(stream_records).where(
                stream_records.c.stream_id == stream_id, stream_records.c.arrived_at <= before
            )
        )
        return int(result.rowcount or 0)

    def record_count(self, stream_id: int) -> int:
        """How many records a stream stores (retained or not yet purged)."""
        value = self.conn.execute(
            select(func.count()).where(stream_records.c.stream_id == stream_id)
        ).scalar()
        return int(value or 0)


def _open_shard(stream_id: int, index: int) -> tuple[Any, ...]:
    """WHERE clauses of a stream's shard that is still open."""
    return (
        stream_shards.c.stream_id == stream_id,
        stream_shards.c.shard_index == index,
        stream_shards.c.closed_at.is_(None),
    )
