"""What every stream operation shares: naming the stream (StreamName or StreamARN), checking
parameters as the model constrains them, and the shapes of shards in answers."""

from __future__ import annotations

import re
from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams import hashing
from engine.services.streams.errors import (
    InvalidArgumentException,
    ResourceNotFoundException,
    validation,
)

_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([a-zA-Z0-9_.-]{1,128})$")
# Retention in hours, Kinesis Data Streams developer guide: 24 hours up to 365 days.
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760


def stream_arn(region: str, account: str, name: str) -> str:
    """arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"""
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def check_name(value: Any, member: str = "streamName") -> str:
    """A StreamName: 1-128 characters of [a-zA-Z0-9_.-] (ValidationException otherwise)."""
    if not isinstance(value, str) or not value:
        raise validation(value, member, "Member must have length greater than or equal to 1")
    if len(value) > 128:
        raise validation(value, member, "Member must have length less than or equal to 128")
    if not _NAME.fullmatch(value):
        raise validation(
            value, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return value


def not_found(name: str, account: str) -> ResourceNotFoundException:
    """The text Kinesis answers for a stream that is not there."""
    return ResourceNotFoundException(f"Stream {name} under account {account} not found.")


def stream_name(ctx: ServiceContext, body: dict[str, Any]) -> tuple[str, str | None]:
    """(name, ARN or None) of the stream a request names by StreamName or StreamARN."""
    name = body.get("StreamName")
    arn = body.get("StreamARN")
    if arn is None and name is None:
        raise InvalidArgumentException("Either StreamName or StreamARN should be provided.")
    if arn is None:
        return check_name(name), None
    match = _ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise validation(
            arn,
            "streamARN",
            "Member must satisfy regular expression pattern: "
            "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        )
    if name is not None and check_name(name) != match.group(3):
        raise InvalidArgumentException(
            f"StreamARN {arn} and StreamName {name} do not refer to the same stream."
        )
    if match.group(2) != ctx.account:
        raise not_found(match.group(3), match.group(2))
    return match.group(3), arn


def load_stream(ctx: ServiceContext, tx: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The stream a request names (ResourceNotFoundException if there is none)."""
    name, arn = stream_name(ctx, body)
    stream = tx.streams.get(ctx.account, name)
    if stream is None or (arn is not None and stream["arn"] != arn):
        raise not_found(name, ctx.account)
    return stream


def lock_stream(ctx: ServiceContext, tx: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Like load_stream, but holds the stream row's lock (PostgreSQL) until the commit."""
    stream = load_stream(ctx, tx, body)
    locked = tx.streams.lock(stream["id"])
    if locked is None:
        raise not_found(stream["name"], ctx.account)
    return locked


def int_param(
    body: dict[str, Any], name: str, member: str, low: int, high: int | None = None
) -> int | None:
    """An optional integer parameter within the model's [low, high] (ValidationException)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(value, member, "Member must be an integer")
    if value < low:
        raise validation(value, member, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        raise validation(value, member, f"Member must have value less than or equal to {high}")
    return value


def string_param(body: dict[str, Any], name: str, member: str, required: bool = False) -> Any:
    """An optional string parameter (ValidationException if it is another JSON type)."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation(None, member, "Member must not be null")
        return None
    if not isinstance(value, str):
        raise validation(value, member, "Member must be a string")
    return value


def shard_param(ctx: ServiceContext, tx: Any, stream: dict[str, Any], value: Any) -> dict[str, Any]:
    """The shard a ShardId names in ``stream`` (ResourceNotFoundException otherwise)."""
    index = hashing.shard_index(value)
    shard = None if index is None else tx.streams.shard(stream["id"], index)
    if shard is None:
        raise ResourceNotFoundException(
            f"Could not find shard {value} in stream {stream['name']} under account {ctx.account}."
        )
    return shard


def horizon(stream: dict[str, Any], now: float) -> float:
    """Records that arrived at or before this instant are past the stream's retention."""
    return now - int(stream["retention_hours"]) * 3600


def mode_details(stream: dict[str, Any]) -> dict[str, str]:
    """StreamModeDetails."""
    return {"StreamMode": stream["mode"]}


def shard_shape(shard: dict[str, Any]) -> dict[str, Any]:
    """A Shard as DescribeStream and ListShards answer it."""
    index = int(shard["shard_index"])
    sequence: dict[str, str] = {
        "StartingSequenceNumber": hashing.sequence_number(index, 0),
    }
    if shard["ending_position"] is not None:
        sequence["EndingSequenceNumber"] = hashing.sequence_number(
            index, int(shard["ending_position"])
        )
    out: dict[str, Any] = {"ShardId": hashing.shard_id(index)}
    if shard["parent_index"] is not None:
        out["ParentShardId"] = hashing.shard_id(int(shard["parent_index"]))
    if shard["adjacent_parent_index"] is not None:
        out["AdjacentParentShardId"] = hashing.shard_id(int(shard["adjacent_parent_index"]))
    out["HashKeyRange"] = {
        "StartingHashKey": shard["starting_hash_key"],
        "EndingHashKey": shard["ending_hash_key"],
    }
    out["SequenceNumberRange"] = sequence
    return out


def new_shards(
    stream_id: int,
    first_index: int,
    ranges: list[tuple[int, int]],
    now: float,
    parent: int | None = None,
    adjacent: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of new open shards over ``ranges``, numbered from ``first_index``."""
    return [
        {
            "stream_id": stream_id,
            "shard_index": first_index + i,
            "starting_hash_key": str(low),
            "ending_hash_key": str(high),
            "parent_index": parent,
            "adjacent_parent_index": adjacent,
            "last_position": 0,
            "created_at": now,
            "closed_at": None,
            "ending_position": None,
        }
        for i, (low, high) in enumerate(ranges)
    ]


def is_conflict(exc: BaseException) -> bool:
    """engine.store.repository.Conflict, matched by name so services stay free of the store."""
    return type(exc).__name__ == "Conflict"


# Deleting expired records costs a statement; a node does it for a stream at most this often
# on the write path. Reads never return expired records whatever the purge has done.
PURGE_INTERVAL_SECONDS = 60.0


def purge_expired(ctx: ServiceContext, tx: Any, stream: dict[str, Any], now: float) -> None:
    """Delete the stream's records past retention, if this node has not done so lately."""
    last = ctx.stream_purges.get(int(stream["id"]))
    if last is not None and now - last < PURGE_INTERVAL_SECONDS:
        return
    tx.streams.purge(stream["id"], horizon(stream, now))
    ctx.stream_purges[int(stream["id"])] = now
