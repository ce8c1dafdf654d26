"""Bad Kinesis requests answer the model's error codes with status 400, never a 500: through
boto3 where it lets the request out, and as raw JSON 1.1 where boto3 would refuse it first."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.kinesis import error_type, iterator, raw

S0 = "shardId-000000000000"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_missing_streams_and_shards(kinesis: Any) -> None:
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.put_record(StreamName="ghost", PartitionKey="k", Data=b"x")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.delete_stream(StreamName="ghost")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream(StreamARN="arn:aws:kinesis:us-east-1:123456789012:stream/ghost")
    kinesis.create_stream(StreamName="real", ShardCount=1)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        # Another account's ARN names no stream of ours.
        kinesis.describe_stream(StreamARN="arn:aws:kinesis:us-east-1:999999999999:stream/real")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        iterator(kinesis, "real", "shardId-000000000007")
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.describe_stream(
            StreamName="other", StreamARN="arn:aws:kinesis:us-east-1:123456789012:stream/real"
        )


def test_bad_arguments(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="args", ShardCount=2)
    with pytest.raises(ClientError) as exc:
        kinesis.create_stream(StreamName="has space", ShardCount=1)
    assert code_of(exc) == "ValidationException"
    for hours, call in ((12, "decrease"), (9000, "increase"), (12, "increase")):
        with pytest.raises(kinesis.exceptions.InvalidArgumentException) as exc:
            getattr(kinesis, f"{call}_stream_retention_period")(
                StreamName="args", RetentionPeriodHours=hours
            )
    assert "Requested retention period (12 hours)" in str(exc.value)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.put_record(
            StreamName="args", PartitionKey="k", Data=b"x", ExplicitHashKey=str(2**128)
        )
    seq = kinesis.put_record(StreamName="args", PartitionKey="k", Data=b"x", ExplicitHashKey="0")[
        "SequenceNumber"
    ]
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        # A sequence number of shard 0 used on shard 1.
        iterator(
            kinesis,
            "args",
            "shardId-000000000001",
            "AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=seq,
        )
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        iterator(kinesis, "args", S0, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber="12345")
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        iterator(kinesis, "args", S0, "AT_SEQUENCE_NUMBER")
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_records(ShardIterator="not-an-iterator")
    it = iterator(kinesis, "args", S0)
    tampered = base64.urlsafe_b64encode(base64.urlsafe_b64decode(it)[:-3] + b"99}").decode()
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_records(ShardIterator=tampered)
    # An iterator of a deleted stream does not read a new stream of the same name.
    kinesis.delete_stream(StreamName="args")
    kinesis.create_stream(StreamName="args", ShardCount=2)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_records(ShardIterator=it)
    with pytest.raises(kinesis.exceptions.ExpiredNextTokenException):
        token = kinesis.list_shards(StreamName="args", MaxResults=1)["NextToken"]
        ctx.clock.advance(301)
        kinesis.list_shards(NextToken=token)


def test_raw_requests_boto3_would_refuse(kinesis: Any, endpoint: str) -> None:
    kinesis.create_stream(StreamName="raw", ShardCount=1)
    cases = [
        ("CreateStream", {"StreamName": "zero", "ShardCount": 0}, "ValidationException"),
        ("CreateStream", {"StreamName": "", "ShardCount": 1}, "ValidationException"),
        ("CreateStream", {"StreamName": "x" * 129}, "ValidationException"),
        ("CreateStream", {"StreamName": "s", "ShardCount": "two"}, "ValidationException"),
        (
            "CreateStream",
            {"StreamName": "s", "StreamModeDetails": {"StreamMode": "FAST"}},
            "ValidationException",
        ),
        ("DescribeStream", {}, "InvalidArgumentException"),
        ("DescribeStream", {"StreamName": "raw", "Limit": 0}, "ValidationException"),
        ("DescribeStream", {"StreamARN": "arn:nope"}, "ValidationException"),
        ("ListStreams", {"Limit": "many"}, "ValidationException"),
        ("ListStreams", {"NextToken": "garbage"}, "InvalidArgumentException"),
        ("PutRecord", {"StreamName": "raw", "Data": "eA=="}, "ValidationException"),
        (
            "PutRecord",
            {"StreamName": "raw", "Data": "eA==", "PartitionKey": "k" * 257},
            "ValidationException",
        ),
        (
            "PutRecord",
            {"StreamName": "raw", "Data": "!!not base64!!", "PartitionKey": "k"},
            "SerializationException",
        ),
        ("PutRecords", {"StreamName": "raw", "Records": []}, "ValidationException"),
        (
            "PutRecords",
            {"StreamName": "raw", "Records": [{"Data": "eA==", "PartitionKey": "k"}] * 501},
            "ValidationException",
        ),
        ("PutRecords", {"StreamName": "raw", "Records": ["x"]}, "ValidationException"),
        (
            "GetShardIterator",
            {"StreamName": "raw", "ShardId": S0, "ShardIteratorType": "NEWEST"},
            "ValidationException",
        ),
        ("GetRecords", {"ShardIterator": 7}, "ValidationException"),
        ("GetRecords", {"ShardIterator": "abc", "Limit": 10001}, "ValidationException"),
        (
            "ListShards",
            {"StreamName": "raw", "ShardFilter": {"Type": "SOMETIME"}},
            "ValidationException",
        ),
        (
            "ListShards",
            {"StreamName": "raw", "ShardFilter": {"Type": "AT_TIMESTAMP"}},
            "InvalidArgumentException",
        ),
        (
            "SplitShard",
            {"StreamName": "raw", "ShardToSplit": S0, "NewStartingHashKey": "-1"},
            "ValidationException",
        ),
        (
            "UpdateShardCount",
            {"StreamName": "raw", "TargetShardCount": 2, "ScalingType": "RANDOM"},
            "ValidationException",
        ),
        ("AddTagsToStream", {"StreamName": "raw", "Tags": {}}, "ValidationException"),
        ("RemoveTagsFromStream", {"StreamName": "raw", "TagKeys": "a"}, "ValidationException"),
        (
            "TagResource",
            {"ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/no", "Tags": {"a": "b"}},
            "ResourceNotFoundException",
        ),
        ("SubscribeToShard", {}, "UnknownOperationException"),
        ("[]", [], "SerializationException"),
    ]
    for operation, body, code in cases:
        if operation == "[]":
            response = raw(endpoint, "ListStreams", body)
        else:
            response = raw(endpoint, operation, body)
        assert error_type(response) == code, (operation, body, response.text)
        assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert error_type(raw(endpoint, "ListStreams", None, content=b"{not json")) == (
        "SerializationException"
    )


def test_a_failure_inside_the_server_is_an_internal_failure(
    kinesis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the server itself reaches boto3 as InternalFailure (500, which SDKs retry)
    in Kinesis's JSON 1.1 shape; the stream made before is intact."""
    from engine.services import streams

    kinesis.create_stream(StreamName="kept", ShardCount=1)

    def broken(*args: Any) -> Any:
        raise RuntimeError("the disk is gone")

    monkeypatch.setitem(streams.OPERATIONS, "ListStreams", broken)
    with pytest.raises(ClientError) as err:
        kinesis.list_streams()
    assert err.value.response["Error"]["Code"] == "InternalFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/x-amz-json-1.1"
    )
    monkeypatch.undo()
    assert kinesis.list_streams()["StreamNames"] == ["kept"]
