"""Writing records: PutRecord and PutRecords.

A record goes to the open shard whose hash key range holds its hash key: the MD5 of its
partition key, or its ExplicitHashKey. Its sequence number is taken inside the transaction
that stores it (engine.store.streams: the shard row's counter, locked until the commit), so
numbers grow in commit order and the call answers only once the record is durable.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams import hashing
from engine.services.streams.common import load_stream, purge_expired, string_param
from engine.services.streams.errors import (
    InvalidArgumentException,
    KinesisError,
    ValidationException,
    validation,
)

MAX_RECORDS = 500
# The model's own cap on a Data blob (a stream's MaxRecordSizeInKiB may reach 10 MiB).
MAX_DATA_BYTES = 10 * 1024 * 1024
# A shard closed by a concurrent split or merge between routing and writing: route again.
_ROUTING_ATTEMPTS = 5


class _Entry:
    """One record of a request, checked and routed."""

    __slots__ = ("data", "partition_key", "explicit", "key", "error")

    def __init__(self, data: bytes, partition_key: str, explicit: str | None, key: int) -> None:
        self.data = data
        self.partition_key = partition_key
        self.explicit = explicit
        self.key = key
        self.error: KinesisError | None = None


def _entry(record: dict[str, Any], member: str) -> _Entry:
    data = record.get("Data")
    if data is None:
        raise validation(None, f"{member}data", "Member must not be null")
    if not isinstance(data, bytes):
        raise validation(data, f"{member}data", "Member must be a blob")
    if len(data) > MAX_DATA_BYTES:
        raise ValidationException(
            f"1 validation error detected: Value at '{member}data' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_DATA_BYTES}"
        )
    key_text = record.get("PartitionKey")
    if not isinstance(key_text, str):
        raise validation(key_text, f"{member}partitionKey", "Member must not be null")
    if not 1 <= len(key_text) <= 256:
        raise validation(
            key_text, f"{member}partitionKey", "Member must have length between 1 and 256"
        )
    explicit = record.get("ExplicitHashKey")
    if explicit is not None:
        number = hashing.parse_hash_key(explicit)
        if number is None:
            raise InvalidArgumentException(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                f"[0, 2^128-1]. Specified value was {explicit}"
            )
        return _Entry(data, key_text, explicit, number)
    return _Entry(data, key_text, None, hashing.hash_key(key_text))


def _too_large(stream: dict[str, Any], entry: _Entry) -> KinesisError | None:
    """The stream's record size limit (data plus partition key, MaxRecordSizeInKiB)."""
    limit = int(stream["max_record_kib"]) * 1024
    size = len(entry.data) + len(entry.partition_key.encode("utf-8"))
    if size <= limit:
        return None
    return InvalidArgumentException(
        f"Record size {size} bytes exceeds the maximum record size of {limit} bytes "
        f"(MaxRecordSizeInKiB {stream['max_record_kib']}) of stream {stream['name']}."
    )


def _write(tx: Any, stream: dict[str, Any], entries: list[_Entry], now_of: Any) -> list[Any]:
    """Store ``entries`` (none failed); returns (shard index, position) of each in order."""
    placed: list[Any] = [None] * len(entries)
    pending = list(range(len(entries)))
    rows: list[dict[str, Any]] = []
    for _ in range(_ROUTING_ATTEMPTS):
        shards = tx.streams.shards(stream["id"], open_only=True)
        by_shard: dict[int, list[int]] = defaultdict(list)
        for i in pending:
            shard = hashing.owner(shards, entries[i].key)
            assert shard is not None, "open shards cover every hash key"
            by_shard[int(str(shard["shard_index"]))].append(i)
        pending = []
        # Lock shard rows in index order: two writers touching the same shards cannot
        # deadlock on PostgreSQL.
        for index in sorted(by_shard):
            members = by_shard[index]
            last = tx.streams.take_positions(stream["id"], index, len(members))
            if last is None:
                pending.extend(members)
                continue
            arrived = now_of()
            for offset, i in enumerate(members):
                position = last - len(members) + 1 + offset
                placed[i] = (index, position)
                entry = entries[i]
                rows.append(
                    {
                        "stream_id": stream["id"],
                        "shard_index": index,
                        "position": position,
                        "partition_key": entry.partition_key,
                        "explicit_hash_key": entry.explicit,
                        "data": entry.data,
                        "arrived_at": arrived,
                    }
                )
        if not pending:
            break
    else:
        raise KinesisError("The shard map changed repeatedly; retry.", "InternalFailureException")
    tx.streams.add_records(rows)
    return placed


def put_record(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """PutRecord: one record; its shard and sequence number."""
    entry = _entry(body, "")
    ordering = string_param(body, "SequenceNumberForOrdering", "sequenceNumberForOrdering")
    if ordering is not None and hashing.parse_sequence_number(ordering) is None:
        raise InvalidArgumentException(
            f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream "
            f"{body.get('StreamName') or body.get('StreamARN')} is invalid."
        )

    def work(tx: Any) -> dict[str, Any]:
        stream = load_stream(ctx, tx, body)
        error = _too_large(stream, entry)
        if error is not None:
            raise error
        # Numbers grow within a shard, and a shard's children number above it: a record of
        # the same partition key always lands above SequenceNumberForOrdering.
        index, position = _write(tx, stream, [entry], ctx.clock.now)[0]
        purge_expired(ctx, tx, stream, ctx.clock.now())
        return _result(stream, index, position)

    result: dict[str, Any] = ctx.store.run(work)
    return result


def _result(stream: dict[str, Any], index: int, position: int) -> dict[str, Any]:
    out = {
        "ShardId": hashing.shard_id(index),
        "SequenceNumber": hashing.sequence_number(index, position),
    }
    if stream["encryption_type"] == "KMS":
        out["EncryptionType"] = "KMS"
    return out


def put_records(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """PutRecords: up to 500 records in one transaction; a record the stream refuses (larger
    than its MaxRecordSizeInKiB) fails alone, with ErrorCode and ErrorMessage in its place."""
    records = body.get("Records")
    if not isinstance(records, list) or not records:
        raise validation(records, "records", "Member must have length greater than or equal to 1")
    if len(records) > MAX_RECORDS:
        raise validation(
            "[...]", "records", f"Member must have length less than or equal to {MAX_RECORDS}"
        )
    entries = []
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise validation(record, f"records.{n}.member", "Member must be a structure")
        entries.append(_entry(record, f"records.{n}.member."))

    def work(tx: Any) -> dict[str, Any]:
        stream = load_stream(ctx, tx, body)
        for entry in entries:
            entry.error = _too_large(stream, entry)
        accepted = [e for e in entries if e.error is None]
        placed = iter(_write(tx, stream, accepted, ctx.clock.now) if accepted else [])
        purge_expired(ctx, tx, stream, ctx.clock.now())
        results = []
        for entry in entries:
            if entry.error is not None:
                results.append({"ErrorCode": entry.error.code, "ErrorMessage": entry.error.message})
            else:
                index, position = next(placed)
                shaped = _result(stream, index, position)
                shaped.pop("EncryptionType", None)
                results.append(shaped)
        out: dict[str, Any] = {
            "FailedRecordCount": sum(1 for e in entries if e.error is not None),
            "Records": results,
        }
        if stream["encryption_type"] == "KMS":
            out["EncryptionType"] = "KMS"
        return out

    result: dict[str, Any] = ctx.store.run(work)
    return result
