"""Kinesis-compatible data streams: one function per Kinesis Data Streams operation.

Every operation takes ``(ctx, region, body)``: ``body`` is the request in the shapes of
botocore's ``kinesis/2013-12-02`` model, except that Data blobs are bytes (the wire adapter
decodes and encodes their base64); ``region`` names new streams' ARNs. Enhanced fan-out
(RegisterStreamConsumer, SubscribeToShard), resource policies and KMS itself are not served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.services.streams import admin, reading, records, shards, tagging
from engine.services.streams.errors import KinesisError

Operation = Callable[[Any, str, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "CreateStream": admin.create_stream,
    "DeleteStream": admin.delete_stream,
    "DescribeStream": admin.describe_stream,
    "DescribeStreamSummary": admin.describe_stream_summary,
    "ListStreams": admin.list_streams,
    "DescribeLimits": admin.describe_limits,
    "IncreaseStreamRetentionPeriod": admin.increase_stream_retention_period,
    "DecreaseStreamRetentionPeriod": admin.decrease_stream_retention_period,
    "StartStreamEncryption": admin.start_stream_encryption,
    "StopStreamEncryption": admin.stop_stream_encryption,
    "ListShards": shards.list_shards,
    "SplitShard": shards.split_shard,
    "MergeShards": shards.merge_shards,
    "UpdateShardCount": shards.update_shard_count,
    "PutRecord": records.put_record,
    "PutRecords": records.put_records,
    "GetShardIterator": reading.get_shard_iterator,
    "GetRecords": reading.get_records,
    "AddTagsToStream": tagging.add_tags_to_stream,
    "RemoveTagsFromStream": tagging.remove_tags_from_stream,
    "ListTagsForStream": tagging.list_tags_for_stream,
    "TagResource": tagging.tag_resource,
    "UntagResource": tagging.untag_resource,
    "ListTagsForResource": tagging.list_tags_for_resource,
}

__all__ = ["OPERATIONS", "KinesisError"]
