"""Reading records: GetShardIterator and GetRecords.

An iterator is a position in one shard (tokens.shard_iterator); GetRecords returns the
records after it in sequence order and a new iterator after the last one returned. Records
past the stream's retention are never returned, whether or not they have been purged yet.
Reading a closed shard (split or merged) to its end answers no NextShardIterator and names
the shard's children, where reading goes on.
"""

from __future__ import annotations

from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams import hashing, tokens
from engine.services.streams.common import (
    horizon,
    int_param,
    load_stream,
    shard_param,
    string_param,
)
from engine.services.streams.errors import (
    InvalidArgumentException,
    ResourceNotFoundException,
    validation,
)

ITERATOR_TYPES = (
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
)
# GetRecords answers at most 10 MiB (Kinesis API reference, GetRecords).
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_LIMIT = 10000


def get_shard_iterator(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """GetShardIterator: an iterator of one of the five types, valid for five minutes."""
    kind = string_param(body, "ShardIteratorType", "shardIteratorType", required=True)
    if kind not in ITERATOR_TYPES:
        raise validation(
            kind,
            "shardIteratorType",
            "Member must satisfy enum value set: [" + ", ".join(ITERATOR_TYPES) + "]",
        )
    shard_id = string_param(body, "ShardId", "shardId", required=True)
    sequence = string_param(body, "StartingSequenceNumber", "startingSequenceNumber")
    timestamp = body.get("Timestamp")
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence is None:
        raise InvalidArgumentException(
            f"StartingSequenceNumber must be specified for ShardIteratorType {kind}."
        )
    if kind == "AT_TIMESTAMP":
        if timestamp is None:
            raise InvalidArgumentException(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."
            )
        if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
            raise validation(timestamp, "timestamp", "Member must be a timestamp")
    stamp = float(timestamp or 0)

    def work(tx: Any) -> str:
        stream = load_stream(ctx, tx, body)
        shard = shard_param(ctx, tx, stream, shard_id)
        index = int(shard["shard_index"])
        now = ctx.clock.now()
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            position = int(shard["last_position"])
        elif kind == "AT_TIMESTAMP":
            if stamp > now:
                raise InvalidArgumentException(
                    "The timestampInMillis parameter cannot be greater than the "
                    "currentTimestampInMillis. timestampInMillis: "
                    f"{int(stamp * 1000)}, currentTimestampInMillis: {int(now * 1000)}"
                )
            first = tx.streams.first_arrived_at_or_after(stream["id"], index, stamp)
            position = int(shard["last_position"]) if first is None else first - 1
        else:
            parsed = hashing.parse_sequence_number(sequence)
            if parsed is None or parsed[0] != index:
                raise InvalidArgumentException(
                    f"StartingSequenceNumber {sequence} used in GetShardIterator on shard "
                    f"{shard_id} in stream {stream['name']} under account {ctx.account} is "
                    "invalid because it did not come from this stream."
                )
            position = parsed[1] if kind == "AFTER_SEQUENCE_NUMBER" else max(parsed[1] - 1, 0)
        return tokens.shard_iterator(stream, index, position, now)

    return {"ShardIterator": ctx.store.read(work)}


def get_records(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """GetRecords: up to Limit records (10,000, at most 10 MiB) after the iterator, in order;
    MillisBehindLatest says how far the next unread record lags behind now."""
    limit = int_param(body, "Limit", "limit", 1, 10000) or DEFAULT_LIMIT
    token = string_param(body, "ShardIterator", "shardIterator", required=True)
    arn = string_param(body, "StreamARN", "streamARN")
    now = ctx.clock.now()
    stream_id, created, index, position = tokens.read_iterator(token, now)

    def work(tx: Any) -> dict[str, Any]:
        stream = tx.streams.by_id(stream_id)
        if (
            stream is None
            or float(stream["created_at"]) != created
            or (arn is not None and arn != stream["arn"])
        ):
            raise ResourceNotFoundException(
                f"Shard {hashing.shard_id(index)} in stream {arn or ''} under account "
                f"{ctx.account} does not exist: the stream of this iterator has been deleted."
            )
        shard = tx.streams.shard(stream_id, index)
        assert shard is not None, "shards are deleted only with their stream"
        since = horizon(stream, now)
        sizes = tx.streams.sizes_after(stream_id, index, position, since, limit + 1)
        taken, total = 0, 0
        for _position, _arrived, size in sizes[:limit]:
            if taken and total + size > MAX_RESPONSE_BYTES:
                break
            taken += 1
            total += size
        records = []
        if taken:
            last = sizes[taken - 1][0]
            records = tx.streams.records_between(stream_id, index, position, last, since)
        children = []
        if shard["closed_at"] is not None and taken == len(sizes):
            children = [s for s in tx.streams.shards(stream_id) if _child_of(s, shard)]
        return {
            "stream": stream,
            "shard": shard,
            "records": records,
            "next_arrival": sizes[taken][1] if taken < len(sizes) else None,
            "children": children,
        }

    found = ctx.store.read(work)
    stream, shard, records = found["stream"], found["shard"], found["records"]
    kms = stream["encryption_type"] == "KMS"
    out: dict[str, Any] = {
        "Records": [_record(r, index, kms) for r in records],
        "MillisBehindLatest": 0
        if found["next_arrival"] is None
        else max(0, int((now - found["next_arrival"]) * 1000)),
    }
    at_end = shard["closed_at"] is not None and found["next_arrival"] is None
    if at_end:
        # The end of a closed shard: no iterator any more; its children carry on.
        out["ChildShards"] = [_child(s) for s in found["children"]]
    else:
        after = int(records[-1]["position"]) if records else position
        out["NextShardIterator"] = tokens.shard_iterator(stream, index, after, now)
    return out


def _record(row: dict[str, Any], index: int, kms: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SequenceNumber": hashing.sequence_number(index, int(row["position"])),
        "ApproximateArrivalTimestamp": float(row["arrived_at"]),
        "Data": bytes(row["data"]),
        "PartitionKey": row["partition_key"],
    }
    if kms:
        out["EncryptionType"] = "KMS"
    return out


def _child_of(shard: dict[str, Any], parent: dict[str, Any]) -> bool:
    """Whether ``shard`` was opened by the resharding that closed ``parent`` and takes some of
    its hash keys (UpdateShardCount may give a shard more parents than the model can name)."""
    return (
        shard["created_at"] == parent["closed_at"]
        and int(shard["starting_hash_key"]) <= int(parent["ending_hash_key"])
        and int(parent["starting_hash_key"]) <= int(shard["ending_hash_key"])
    )


def _child(shard: dict[str, Any]) -> dict[str, Any]:
    parents = [hashing.shard_id(int(shard["parent_index"]))]
    if shard["adjacent_parent_index"] is not None:
        parents.append(hashing.shard_id(int(shard["adjacent_parent_index"])))
    return {
        "ShardId": hashing.shard_id(int(shard["shard_index"])),
        "ParentShards": parents,
        "HashKeyRange": {
            "StartingHashKey": shard["starting_hash_key"],
            "EndingHashKey": shard["ending_hash_key"],
        },
    }
