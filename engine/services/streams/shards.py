"""The shard map: ListShards, and resharding with SplitShard, MergeShards and UpdateShardCount.

Resharding closes parent shards at their last sequence number and opens children numbered
above them, in one transaction with the stream row locked; so writers route to the children
from the commit on, and readers finish a parent before moving to its children
(Kinesis Data Streams developer guide, "Resharding a stream"). The stream stays ACTIVE: the
change is complete when the call answers.
"""

from __future__ import annotations

from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams import hashing, tokens
from engine.services.streams.admin import check_shard_quota
from engine.services.streams.common import (
    horizon,
    int_param,
    load_stream,
    lock_stream,
    new_shards,
    shard_param,
    shard_shape,
    string_param,
)
from engine.services.streams.errors import (
    InvalidArgumentException,
    LimitExceededException,
    validation,
)

FILTER_TYPES = (
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
)


def _open_at(shard: dict[str, Any], when: float) -> bool:
    closed = shard["closed_at"]
    return float(shard["created_at"]) <= when and (closed is None or float(closed) > when)


def _filtered(
    shards: list[dict[str, Any]], stream: dict[str, Any], spec: dict[str, Any], now: float
) -> list[dict[str, Any]]:
    kind = spec.get("Type")
    created = float(stream["created_at"])
    if kind == "AFTER_SHARD_ID":
        return [s for s in shards if hashing.shard_id(s["shard_index"]) > spec["ShardId"]]
    if kind == "AT_LATEST":
        return [s for s in shards if s["closed_at"] is None]
    if kind == "AT_TRIM_HORIZON":
        when = max(horizon(stream, now), created)
        return [s for s in shards if _open_at(s, when)]
    if kind == "FROM_TRIM_HORIZON":
        cut = horizon(stream, now)
        return [s for s in shards if s["closed_at"] is None or float(s["closed_at"]) > cut]
    if kind == "AT_TIMESTAMP":
        when = max(float(spec["Timestamp"]), created)
        return [s for s in shards if _open_at(s, when)]
    if kind == "FROM_TIMESTAMP":
        when = float(spec["Timestamp"])
        return [s for s in shards if s["closed_at"] is None or float(s["closed_at"]) >= when]
    return shards


def _shard_filter(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    kind = value.get("Type") if isinstance(value, dict) else None
    if kind not in FILTER_TYPES:
        raise validation(
            kind,
            "shardFilter.type",
            "Member must satisfy enum value set: [" + ", ".join(FILTER_TYPES) + "]",
        )
    if kind == "AFTER_SHARD_ID" and not isinstance(value.get("ShardId"), str):
        raise InvalidArgumentException("ShardFilter of type AFTER_SHARD_ID requires a ShardId.")
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        stamp = value.get("Timestamp")
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise InvalidArgumentException(f"ShardFilter of type {kind} requires a Timestamp.")
    return dict(value)


def list_shards(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """ListShards: the stream's shards by id, MaxResults (default 1000) a page, optionally
    filtered by ShardFilter; NextToken continues a listing and excludes StreamName."""
    limit = int_param(body, "MaxResults", "maxResults", 1, 10000) or 1000
    now = ctx.clock.now()
    after = string_param(body, "ExclusiveStartShardId", "exclusiveStartShardId") or ""
    if body.get("NextToken") is not None:
        scope, after = tokens.read_next_token("shards", body["NextToken"], now)
        stream_id, spec = int(scope["id"]), dict(scope["filter"])
        # AWS refuses StreamName beside NextToken, but boto3's ListShards paginator sends
        # both; accepting a StreamName (or ARN) that names the token's own stream serves it.
        named = body.get("StreamName") is not None or body.get("StreamARN") is not None

        def load(tx: Any) -> dict[str, Any]:
            stream = tx.streams.by_id(stream_id)
            if stream is None:
                raise InvalidArgumentException("The stream of this NextToken no longer exists.")
            if named and load_stream(ctx, tx, body)["id"] != stream["id"]:
                raise InvalidArgumentException(
                    "NextToken and StreamName cannot be provided together."
                )
            return stream
    else:
        spec = _shard_filter(body.get("ShardFilter"))

        def load(tx: Any) -> dict[str, Any]:
            return load_stream(ctx, tx, body)

    def work(tx: Any) -> dict[str, Any]:
        stream = load(tx)
        return {"stream": stream, "shards": tx.streams.shards(stream["id"])}

    found = ctx.store.read(work)
    shards = _filtered(found["shards"], found["stream"], spec, now)
    shards = [s for s in shards if hashing.shard_id(s["shard_index"]) > after]
    out: dict[str, Any] = {"Shards": [shard_shape(s) for s in shards[:limit]]}
    if len(shards) > limit:
        last = hashing.shard_id(shards[limit - 1]["shard_index"])
        scope = {"id": int(found["stream"]["id"]), "filter": spec}
        out["NextToken"] = tokens.next_token("shards", scope, last, now)
    return out


def _not_eligible(ctx: ServiceContext, stream: dict[str, Any], shard_id: str, verb: str) -> Any:
    return InvalidArgumentException(
        f"Shard {shard_id} in stream {stream['name']} under account {ctx.account} has already "
        f"been merged or split, and thus is not eligible for {verb}."
    )


def split_shard(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """SplitShard: the shard closes; two children take its hash keys below and from
    NewStartingHashKey."""
    shard_id = string_param(body, "ShardToSplit", "shardToSplit", required=True)
    text = string_param(body, "NewStartingHashKey", "newStartingHashKey", required=True)
    key = hashing.parse_hash_key(text)
    if key is None:
        raise validation(
            text,
            "newStartingHashKey",
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
        )

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        shard = shard_param(ctx, tx, stream, shard_id)
        if shard["closed_at"] is not None:
            raise _not_eligible(ctx, stream, shard_id, "splitting")
        low, high = int(shard["starting_hash_key"]), int(shard["ending_hash_key"])
        if not low < key <= high:
            raise InvalidArgumentException(
                f"NewStartingHashKey {text} used in SplitShard() on shard {shard_id} in stream "
                f"{stream['name']} under account {ctx.account} is not both greater than one "
                f"plus the shard's StartingHashKey {low} and less than the shard's "
                f"EndingHashKey {high}."
            )
        check_shard_quota(ctx, tx, 1)
        now = ctx.clock.now()
        index = int(shard["shard_index"])
        tx.streams.close_shard(stream["id"], index, now)
        first = int(stream["next_shard"])
        ranges = [(low, key - 1), (key, high)]
        tx.streams.add_shards(new_shards(stream["id"], first, ranges, now, parent=index))
        tx.streams.update(stream["id"], next_shard=first + 2)

    ctx.store.run(work)
    return {}


def merge_shards(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """MergeShards: two open shards with adjacent hash key ranges close; one child takes both
    ranges (its ParentShardId is ShardToMerge, its AdjacentParentShardId the other)."""
    first_id = string_param(body, "ShardToMerge", "shardToMerge", required=True)
    second_id = string_param(body, "AdjacentShardToMerge", "adjacentShardToMerge", required=True)

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        one = shard_param(ctx, tx, stream, first_id)
        two = shard_param(ctx, tx, stream, second_id)
        for shard, shard_id in ((one, first_id), (two, second_id)):
            if shard["closed_at"] is not None:
                raise _not_eligible(ctx, stream, shard_id, "merging")
        low1, high1 = int(one["starting_hash_key"]), int(one["ending_hash_key"])
        low2, high2 = int(two["starting_hash_key"]), int(two["ending_hash_key"])
        if not (high1 + 1 == low2 or high2 + 1 == low1):
            raise InvalidArgumentException(
                f"Shards {first_id} and {second_id} in stream {stream['name']} under account "
                f"{ctx.account} are not an adjacent pair of shards eligible for merging"
            )
        now = ctx.clock.now()
        # Shard rows lock in index order, as PutRecords takes them: no deadlock between them.
        for shard in sorted((one, two), key=lambda row: int(row["shard_index"])):
            tx.streams.close_shard(stream["id"], int(shard["shard_index"]), now)
        index = int(stream["next_shard"])
        tx.streams.add_shards(
            new_shards(
                stream["id"],
                index,
                [(min(low1, low2), max(high1, high2))],
                now,
                parent=int(one["shard_index"]),
                adjacent=int(two["shard_index"]),
            )
        )
        tx.streams.update(stream["id"], next_shard=index + 1)

    ctx.store.run(work)
    return {}


def update_shard_count(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateShardCount (UNIFORM_SCALING): every open shard closes and TargetShardCount new
    shards split the hash key space evenly. Each new shard names the old shards its range
    overlaps as parents (two at most fit the model; the scaling limits keep it so for evenly
    split streams)."""
    target = int_param(body, "TargetShardCount", "targetShardCount", 1, 10000)
    if target is None:
        raise validation(None, "targetShardCount", "Member must not be null")
    scaling = string_param(body, "ScalingType", "scalingType", required=True)
    if scaling != "UNIFORM_SCALING":
        raise validation(
            scaling, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]"
        )

    def work(tx: Any) -> dict[str, Any]:
        stream = lock_stream(ctx, tx, body)
        old = tx.streams.shards(stream["id"], open_only=True)
        current = len(old)
        # Kinesis API reference, UpdateShardCount: at most double, at least half.
        if target > 2 * current or 2 * target < current:
            raise LimitExceededException(
                f"UpdateShardCount to {target} shards for stream {stream['name']} under "
                f"account {ctx.account} is not allowed: the target must be between half and "
                f"double the current {current} open shards."
            )
        if target > current:
            check_shard_quota(ctx, tx, target - current)
        now = ctx.clock.now()
        for shard in old:
            tx.streams.close_shard(stream["id"], int(shard["shard_index"]), now)
        first = int(stream["next_shard"])
        rows = new_shards(stream["id"], first, hashing.even_ranges(target), now)
        for row in rows:
            low, high = int(row["starting_hash_key"]), int(row["ending_hash_key"])
            parents = [
                int(s["shard_index"])
                for s in old
                if int(s["starting_hash_key"]) <= high and low <= int(s["ending_hash_key"])
            ]
            row["parent_index"] = parents[0]
            row["adjacent_parent_index"] = parents[1] if len(parents) > 1 else None
        tx.streams.add_shards(rows)
        tx.streams.update(stream["id"], next_shard=first + target)
        return {
            "StreamName": stream["name"],
            "StreamARN": stream["arn"],
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }

    result: dict[str, Any] = ctx.store.run(work)
    return result
