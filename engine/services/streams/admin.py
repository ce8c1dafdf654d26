"""Streams themselves: CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary,
ListStreams, DescribeLimits, the retention period and the encryption fields.

A stream is ACTIVE as soon as CreateStream answers; clients that wait for ACTIVE (boto3's
``stream_exists`` waiter) see it on their first DescribeStream.
"""

from __future__ import annotations

from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams import hashing, tagging, tokens
from engine.services.streams.common import (
    MAX_RETENTION_HOURS,
    MIN_RETENTION_HOURS,
    check_name,
    horizon,
    int_param,
    is_conflict,
    load_stream,
    lock_stream,
    mode_details,
    new_shards,
    shard_shape,
    stream_arn,
    string_param,
)
from engine.services.streams.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    validation,
)

# Service quotas (Kinesis Data Streams developer guide, "Quotas and limits"): shards per
# account in most regions, on-demand streams per account, and the shards an on-demand stream
# starts with (4 MiB/s of writes).
SHARD_LIMIT = 500
ON_DEMAND_STREAM_LIMIT = 50
ON_DEMAND_SHARDS = 4
DEFAULT_RECORD_KIB = 1024
_MODES = ("PROVISIONED", "ON_DEMAND")


def _mode(body: dict[str, Any]) -> str | None:
    details = body.get("StreamModeDetails")
    if details is None:
        return None
    mode = details.get("StreamMode") if isinstance(details, dict) else None
    if mode not in _MODES:
        raise validation(
            mode,
            "streamModeDetails.streamMode",
            "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]",
        )
    return str(mode)


def check_shard_quota(ctx: ServiceContext, tx: Any, adding: int) -> None:
    """LimitExceededException if ``adding`` open shards would pass the account's quota."""
    open_now = tx.streams.open_shard_count(ctx.account)
    if open_now + adding > SHARD_LIMIT:
        raise LimitExceededException(
            f"This request would exceed the shard limit for the account {ctx.account} in "
            f"{ctx.settings.default_region}. Current shard count for the account: {open_now}. "
            f"Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from "
            f"this request: {adding}. Refer to the AWS Service Limits page for more information."
        )


def create_stream(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """CreateStream: PROVISIONED with ShardCount shards, or ON_DEMAND (four shards); no mode
    and no ShardCount means ON_DEMAND, as the console and current SDKs default."""
    name = check_name(body.get("StreamName"))
    count = int_param(body, "ShardCount", "shardCount", 1)
    mode = _mode(body)
    if mode is None:
        mode = "PROVISIONED" if count is not None else "ON_DEMAND"
    if mode == "PROVISIONED" and count is None:
        raise InvalidArgumentException("ShardCount is required for a PROVISIONED stream.")
    if mode == "ON_DEMAND":
        count = ON_DEMAND_SHARDS
    assert count is not None
    record_kib = int_param(body, "MaxRecordSizeInKiB", "maxRecordSizeInKiB", 1024, 10240)
    tags = tagging.tag_map(body.get("Tags"), required=False)

    def work(tx: Any) -> None:
        if tx.streams.get(ctx.account, name) is not None:
            raise _in_use(ctx, name)
        check_shard_quota(ctx, tx, count)
        now = ctx.clock.now()
        stream = tx.streams.insert(
            {
                "account": ctx.account,
                "name": name,
                "arn": stream_arn(region, ctx.account, name),
                "status": "ACTIVE",
                "mode": mode,
                "retention_hours": MIN_RETENTION_HOURS,
                "encryption_type": "NONE",
                "key_id": None,
                "max_record_kib": record_kib or DEFAULT_RECORD_KIB,
                "next_shard": count,
                "created_at": now,
            }
        )
        tx.streams.add_shards(new_shards(stream["id"], 0, hashing.even_ranges(count), now))
        if tags:
            tx.tags.put(stream["arn"], tags)

    try:
        ctx.store.run(work)
    except Exception as exc:
        if is_conflict(exc):  # a concurrent CreateStream of the same name committed first
            raise _in_use(ctx, name) from exc
        raise
    return {}


def _in_use(ctx: ServiceContext, name: str) -> ResourceInUseException:
    return ResourceInUseException(f"Stream {name} under account {ctx.account} already exists.")


def delete_stream(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStream: the stream, its shards, records and tags go at once. There are no
    registered consumers here, so EnforceConsumerDeletion changes nothing."""
    enforce = body.get("EnforceConsumerDeletion")
    if enforce is not None and not isinstance(enforce, bool):
        raise validation(enforce, "enforceConsumerDeletion", "Member must be a boolean")

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        tx.streams.delete(stream["id"])
        tx.tags.drop(stream["arn"])

    ctx.store.run(work)
    return {}


def describe_stream(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStream: the stream and a page of its shards (at most 100 per call, as AWS)."""
    limit = min(int_param(body, "Limit", "limit", 1, 10000) or 100, 100)
    start = string_param(body, "ExclusiveStartShardId", "exclusiveStartShardId")

    def work(tx: Any) -> dict[str, Any]:
        stream = load_stream(ctx, tx, body)
        return {"stream": stream, "shards": tx.streams.shards(stream["id"])}

    found = ctx.store.read(work)
    stream = found["stream"]
    shards = [
        s for s in found["shards"] if start is None or hashing.shard_id(s["shard_index"]) > start
    ]
    description = _summary(stream)
    description["Shards"] = [shard_shape(s) for s in shards[:limit]]
    description["HasMoreShards"] = len(shards) > limit
    return {"StreamDescription": description}


def describe_stream_summary(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStreamSummary: the stream without its shards, with its open shard count."""

    def work(tx: Any) -> dict[str, Any]:
        stream = load_stream(ctx, tx, body)
        return {"stream": stream, "open": len(tx.streams.shards(stream["id"], open_only=True))}

    found = ctx.store.read(work)
    summary = _summary(found["stream"])
    summary["OpenShardCount"] = found["open"]
    summary["ConsumerCount"] = 0
    summary["MaxRecordSizeInKiB"] = int(found["stream"]["max_record_kib"])
    return {"StreamDescriptionSummary": summary}


def _summary(stream: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StreamName": stream["name"],
        "StreamARN": stream["arn"],
        "StreamStatus": stream["status"],
        "StreamModeDetails": mode_details(stream),
        "RetentionPeriodHours": int(stream["retention_hours"]),
        "StreamCreationTimestamp": float(stream["created_at"]),
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": stream["encryption_type"],
    }
    if stream["key_id"]:
        out["KeyId"] = stream["key_id"]
    return out


def list_streams(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """ListStreams: names and summaries by name, Limit (default 100) per page, continued by
    NextToken or ExclusiveStartStreamName."""
    limit = int_param(body, "Limit", "limit", 1, 10000) or 100
    now = ctx.clock.now()
    after = string_param(body, "ExclusiveStartStreamName", "exclusiveStartStreamName") or ""
    if body.get("NextToken") is not None:
        _scope, after = tokens.read_next_token("streams", body["NextToken"], now)
    rows = ctx.store.read(lambda tx: tx.streams.page(ctx.account, after, limit + 1))
    page = rows[:limit]
    out: dict[str, Any] = {
        "StreamNames": [r["name"] for r in page],
        "HasMoreStreams": len(rows) > limit,
        "StreamSummaries": [
            {
                "StreamName": r["name"],
                "StreamARN": r["arn"],
                "StreamStatus": r["status"],
                "StreamModeDetails": mode_details(r),
                "StreamCreationTimestamp": float(r["created_at"]),
            }
            for r in page
        ],
    }
    if len(rows) > limit:
        out["NextToken"] = tokens.next_token("streams", ctx.account, page[-1]["name"], now)
    return out


def describe_limits(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeLimits: the account's shard quota and use."""

    def work(tx: Any) -> dict[str, int]:
        streams = tx.streams.page(ctx.account, "", 100000)
        return {
            "open": tx.streams.open_shard_count(ctx.account),
            "on_demand": sum(1 for s in streams if s["mode"] == "ON_DEMAND"),
        }

    found = ctx.store.read(work)
    return {
        "ShardLimit": SHARD_LIMIT,
        "OpenShardCount": found["open"],
        "OnDemandStreamCount": found["on_demand"],
        "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
    }


def _retention(ctx: ServiceContext, body: dict[str, Any], increase: bool) -> dict[str, Any]:
    hours = int_param(body, "RetentionPeriodHours", "retentionPeriodHours", 1)
    if hours is None:
        raise validation(None, "retentionPeriodHours", "Member must not be null")
    if hours < MIN_RETENTION_HOURS:
        raise InvalidArgumentException(
            f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. "
            f"Requested retention period ({hours} hours) is too short."
        )
    if hours > MAX_RETENTION_HOURS:
        raise InvalidArgumentException(
            f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. "
            f"Requested retention period ({hours} hours) is too long."
        )

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        current = int(stream["retention_hours"])
        if increase and hours < current:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {stream['name']} can not "
                f"be shorter than existing retention period ({current} hours). "
                "Use DecreaseRetentionPeriod API."
            )
        if not increase and hours > current:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {stream['name']} can not "
                f"be longer than existing retention period ({current} hours). "
                "Use IncreaseRetentionPeriod API."
            )
        tx.streams.update(stream["id"], retention_hours=hours)
        if not increase:
            # Records past the new period are unreadable from now on; delete them with it.
            stream["retention_hours"] = hours
            tx.streams.purge(stream["id"], horizon(stream, ctx.clock.now()))

    ctx.store.run(work)
    return {}


def increase_stream_retention_period(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """IncreaseStreamRetentionPeriod (up to 8760 hours)."""
    return _retention(ctx, body, increase=True)


def decrease_stream_retention_period(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """DecreaseStreamRetentionPeriod (down to 24 hours); older records are deleted at once."""
    return _retention(ctx, body, increase=False)


def _encryption(ctx: ServiceContext, body: dict[str, Any], start: bool) -> dict[str, Any]:
    kind = string_param(body, "EncryptionType", "encryptionType", required=True)
    key = string_param(body, "KeyId", "keyId", required=True)
    if kind not in ("NONE", "KMS"):
        raise validation(kind, "encryptionType", "Member must satisfy enum value set: [NONE, KMS]")
    if kind != "KMS":
        raise InvalidArgumentException(f"Encryption type {kind} is not supported.")

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        # Only the fields are kept: records are stored as given (no KMS here).
        if start:
            tx.streams.update(stream["id"], encryption_type="KMS", key_id=key)
        else:
            tx.streams.update(stream["id"], encryption_type="NONE", key_id=None)

    ctx.store.run(work)
    return {}


def start_stream_encryption(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """StartStreamEncryption: records EncryptionType KMS and the KeyId."""
    return _encryption(ctx, body, start=True)


def stop_stream_encryption(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """StopStreamEncryption: back to EncryptionType NONE."""
    return _encryption(ctx, body, start=False)
