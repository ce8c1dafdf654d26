"""Kinesis Data Streams through boto3 (AWS JSON 1.1), on SQLite and PostgreSQL: streams,
records in order per shard, partition key routing, iterators, retention. Time moves through
the injected clock, never by sleeping."""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_context
from tests.support.kinesis import iterator, read_all
from tests.support.server import kinesis_client, thread_server

ACCOUNT = "123456789012"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def shard_ranges(kinesis: Any, name: str) -> dict[str, tuple[int, int]]:
    shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    return {
        s["ShardId"]: (
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
        )
        for s in shards
    }


# --- streams -------------------------------------------------------------------------------------
def test_create_describe_list_delete(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=3)
    kinesis.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0.1})
    described = kinesis.describe_stream(StreamName="orders")["StreamDescription"]
    assert described["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"
    assert described["StreamStatus"] == "ACTIVE"
    assert described["RetentionPeriodHours"] == 24
    assert described["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert [s["ShardId"] for s in described["Shards"]] == [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ]
    ranges = [
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in described["Shards"]
    ]
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:], strict=False))

    kinesis.create_stream(StreamName="clicks", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    assert summary["EncryptionType"] == "NONE"

    listed = kinesis.list_streams()
    assert listed["StreamNames"] == ["clicks", "orders"]
    assert [s["StreamARN"] for s in listed["StreamSummaries"]][1] == described["StreamARN"]

    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName="orders", ShardCount=1)

    kinesis.delete_stream(StreamARN=described["StreamARN"], EnforceConsumerDeletion=True)
    kinesis.get_waiter("stream_not_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0.1})
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as exc:
        kinesis.describe_stream(StreamName="orders")
    assert "Stream orders under account 123456789012 not found" in str(exc.value)
    assert kinesis.list_streams()["StreamNames"] == ["clicks"]


def test_list_streams_and_describe_stream_page(kinesis: Any) -> None:
    for n in range(5):
        kinesis.create_stream(StreamName=f"s{n}", ShardCount=1)
    first = kinesis.list_streams(Limit=2)
    assert first["StreamNames"] == ["s0", "s1"] and first["HasMoreStreams"]
    second = kinesis.list_streams(NextToken=first["NextToken"], Limit=2)
    assert second["StreamNames"] == ["s2", "s3"]
    rest = kinesis.list_streams(ExclusiveStartStreamName="s3")
    assert rest["StreamNames"] == ["s4"] and not rest["HasMoreStreams"]

    kinesis.create_stream(StreamName="wide", ShardCount=5)
    page = kinesis.describe_stream(StreamName="wide", Limit=2)["StreamDescription"]
    assert [s["ShardId"][-1] for s in page["Shards"]] == ["0", "1"] and page["HasMoreShards"]
    page = kinesis.describe_stream(
        StreamName="wide", Limit=10, ExclusiveStartShardId=page["Shards"][-1]["ShardId"]
    )["StreamDescription"]
    assert [s["ShardId"][-1] for s in page["Shards"]] == ["2", "3", "4"]
    assert not page["HasMoreShards"]
    # boto3's paginator follows ListShards' NextToken.
    paged = kinesis.get_paginator("list_shards").paginate(
        StreamName="wide", PaginationConfig={"PageSize": 2}
    )
    assert [s["ShardId"] for p in paged for s in p["Shards"]] == [
        f"shardId-00000000000{i}" for i in range(5)
    ]


def test_tags(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="tagged", ShardCount=1, Tags={"team": "data"})
    arn = kinesis.describe_stream_summary(StreamName="tagged")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"env": "prod", "team": "core"})
    assert kinesis.list_tags_for_stream(StreamName="tagged")["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": "core"},
    ]
    page = kinesis.list_tags_for_stream(StreamName="tagged", Limit=1)
    assert page["Tags"] == [{"Key": "env", "Value": "prod"}] and page["HasMoreTags"]
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["env", "absent"])
    kinesis.tag_resource(ResourceARN=arn, Tags={"cost": "42"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "cost", "Value": "42"},
        {"Key": "team", "Value": "core"},
    ]
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["cost"])
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "team", "Value": "core"}]
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.add_tags_to_stream(StreamName="tagged", Tags={f"k{i}": "v" for i in range(50)})
    # A stream created again under the same name starts without the old tags.
    kinesis.delete_stream(StreamName="tagged")
    kinesis.create_stream(StreamName="tagged", ShardCount=1)
    assert kinesis.list_tags_for_stream(StreamName="tagged")["Tags"] == []


# --- records -------------------------------------------------------------------------------------
def test_partition_keys_route_by_md5_and_records_read_back_in_order(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="events", ShardCount=4)
    ranges = shard_ranges(kinesis, "events")
    sent: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for n in range(60):
        key = f"user-{n % 13}"
        data = f"event-{n}".encode()
        put = kinesis.put_record(StreamName="events", PartitionKey=key, Data=data)
        low, high = ranges[put["ShardId"]]
        assert low <= int(hashlib.md5(key.encode()).hexdigest(), 16) <= high
        sent[put["ShardId"]].append((put["SequenceNumber"], data))
    assert len(sent) == 4  # 13 keys spread over every shard
    for shard_id, expected in sent.items():
        records, last = read_all(kinesis, iterator(kinesis, "events", shard_id))
        assert [(r["SequenceNumber"], r["Data"]) for r in records] == expected
        numbers = [int(r["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert all(len(r["SequenceNumber"]) == 56 for r in records)
        assert last["MillisBehindLatest"] == 0
    everything = [n for records in sent.values() for n, _ in records]
    assert len(set(everything)) == 60  # unique across shards too


def test_explicit_hash_key_chooses_the_shard(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="explicit", ShardCount=2)
    put = kinesis.put_record(
        StreamName="explicit", PartitionKey="same", Data=b"x", ExplicitHashKey=str(2**127)
    )
    assert put["ShardId"] == "shardId-000000000001"
    put = kinesis.put_record(
        StreamName="explicit", PartitionKey="same", Data=b"y", ExplicitHashKey=str(2**127 - 1)
    )
    assert put["ShardId"] == "shardId-000000000000"
    # SequenceNumberForOrdering: the next record of the key numbers above it.
    after = kinesis.put_record(
        StreamName="explicit",
        PartitionKey="same",
        Data=b"z",
        ExplicitHashKey=str(2**127 - 1),
        SequenceNumberForOrdering=put["SequenceNumber"],
    )
    assert int(after["SequenceNumber"]) > int(put["SequenceNumber"])


def test_put_records_reports_each_record_and_fails_only_the_oversized(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="batch", ShardCount=2)
    mib = 1024 * 1024
    records = [
        {"Data": b"small-0", "PartitionKey": "a"},
        {"Data": b"x" * mib, "PartitionKey": "b"},  # data + key > 1 MiB
        {"Data": b"small-2", "PartitionKey": "a"},
        {"Data": b"y" * (mib - 1), "PartitionKey": "c"},  # exactly 1 MiB with its key
    ]
    answer = kinesis.put_records(StreamName="batch", Records=records)
    assert answer["FailedRecordCount"] == 1
    results = answer["Records"]
    assert results[1]["ErrorCode"] == "InvalidArgumentException"
    assert "SequenceNumber" not in results[1]
    assert all("SequenceNumber" in results[i] for i in (0, 2, 3))
    assert int(results[2]["SequenceNumber"]) > int(results[0]["SequenceNumber"])
    stored = []
    for shard_id in ("shardId-000000000000", "shardId-000000000001"):
        stored += read_all(kinesis, iterator(kinesis, "batch", shard_id))[0]
    assert sorted(len(r["Data"]) for r in stored) == [7, 7, mib - 1]
    ok = kinesis.put_records(StreamName="batch", Records=[records[0]] * 500)
    assert ok["FailedRecordCount"] == 0 and len(ok["Records"]) == 500
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.put_record(StreamName="batch", PartitionKey="b", Data=b"x" * mib)


def test_get_records_pages_by_limit_and_reports_lag(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="paged", ShardCount=1)
    for n in range(25):
        kinesis.put_record(StreamName="paged", PartitionKey="k", Data=str(n).encode())
    ctx.clock.advance(10)
    it = iterator(kinesis, "paged", "shardId-000000000000")
    seen: list[bytes] = []
    lags = []
    for _ in range(3):
        page = kinesis.get_records(ShardIterator=it, Limit=10)
        seen += [r["Data"] for r in page["Records"]]
        lags.append(page["MillisBehindLatest"])
        it = page["NextShardIterator"]
    assert seen == [str(n).encode() for n in range(25)]
    assert lags[0] >= 10000 and lags[-1] == 0
    empty = kinesis.get_records(ShardIterator=it)
    assert empty["Records"] == [] and empty["NextShardIterator"]


def test_iterator_types(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="its", ShardCount=1)
    shard = "shardId-000000000000"
    seqs = [
        kinesis.put_record(StreamName="its", PartitionKey="k", Data=f"r{n}".encode())[
            "SequenceNumber"
        ]
        for n in range(3)
    ]
    latest = iterator(kinesis, "its", shard, "LATEST")
    at = iterator(kinesis, "its", shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])
    after = iterator(kinesis, "its", shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])
    ctx.clock.advance(5)
    moment = ctx.clock.now()
    ctx.clock.advance(5)
    kinesis.put_record(StreamName="its", PartitionKey="k", Data=b"r3")
    stamp = iterator(kinesis, "its", shard, "AT_TIMESTAMP", Timestamp=moment)

    def datas(it: str) -> list[bytes]:
        return [r["Data"] for r in read_all(kinesis, it)[0]]

    assert datas(latest) == [b"r3"]
    assert datas(at) == [b"r1", b"r2", b"r3"]
    assert datas(after) == [b"r2", b"r3"]
    assert datas(stamp) == [b"r3"]
    assert datas(iterator(kinesis, "its", shard)) == [b"r0", b"r1", b"r2", b"r3"]
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        iterator(kinesis, "its", shard, "AT_TIMESTAMP", Timestamp=ctx.clock.now() + 3600)


def test_iterators_expire_after_five_minutes(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="expiry", ShardCount=1)
    kinesis.put_record(StreamName="expiry", PartitionKey="k", Data=b"a")
    it = iterator(kinesis, "expiry", "shardId-000000000000")
    ctx.clock.advance(299)
    page = kinesis.get_records(ShardIterator=it)
    assert [r["Data"] for r in page["Records"]] == [b"a"]
    ctx.clock.advance(299)  # the next iterator is fresh: issued by the last call
    assert kinesis.get_records(ShardIterator=page["NextShardIterator"])["Records"] == []
    ctx.clock.advance(2)
    with pytest.raises(kinesis.exceptions.ExpiredIteratorException):
        kinesis.get_records(ShardIterator=it)


def test_records_past_retention_are_not_returned_and_are_purged(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="kept", ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=48)
    assert (
        kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"][
            "RetentionPeriodHours"
        ]
        == 48
    )
    kinesis.put_record(StreamName="kept", PartitionKey="k", Data=b"old")
    ctx.clock.advance(30 * 3600)
    kinesis.put_record(StreamName="kept", PartitionKey="k", Data=b"new")
    shard = "shardId-000000000000"
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "kept", shard))[0]] == [
        b"old",
        b"new",
    ]
    # Down to 24 hours: the 30-hour-old record is gone, from reads and from the database.
    kinesis.decrease_stream_retention_period(StreamName="kept", RetentionPeriodHours=24)
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "kept", shard))[0]] == [b"new"]
    stream_id = ctx.store.read(lambda tx: tx.streams.get(ACCOUNT, "kept")["id"])
    assert ctx.store.read(lambda tx: tx.streams.record_count(stream_id)) == 1
    # Time passes: the last record expires for readers at once, and the next write purges it.
    ctx.clock.advance(24 * 3600 + 1)
    assert read_all(kinesis, iterator(kinesis, "kept", shard))[0] == []
    kinesis.put_record(StreamName="kept", PartitionKey="k", Data=b"newest")
    assert ctx.store.read(lambda tx: tx.streams.record_count(stream_id)) == 1


def test_concurrent_writers_get_unique_increasing_numbers(kinesis: Any, endpoint: str) -> None:
    kinesis.create_stream(StreamName="busy", ShardCount=1)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def produce(worker: int) -> None:
        client = kinesis_client(endpoint)
        for n in range(15):
            if n % 5 == 0:
                answer = client.put_records(
                    StreamName="busy",
                    Records=[
                        {"Data": f"{worker}-{n}-{i}".encode(), "PartitionKey": "p"}
                        for i in range(4)
                    ],
                )
                got = [r["SequenceNumber"] for r in answer["Records"]]
            else:
                got = [
                    client.put_record(StreamName="busy", PartitionKey="p", Data=b"x")[
                        "SequenceNumber"
                    ]
                ]
            with lock:
                acknowledged.extend(got)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records, _ = read_all(kinesis, iterator(kinesis, "busy", "shardId-000000000000"))
    numbers = [r["SequenceNumber"] for r in records]
    assert sorted(numbers) == sorted(acknowledged)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == len(numbers) == 6 * (3 * 4 + 12)


def test_records_survive_a_server_restart(ctx: Any) -> None:
    with thread_server(ctx) as url:
        kinesis = kinesis_client(url)
        kinesis.create_stream(StreamName="durable", ShardCount=2)
        sent = [
            kinesis.put_record(StreamName="durable", PartitionKey=str(n), Data=bytes([n]))
            for n in range(20)
        ]
    ctx.store.dispose()
    again = make_context(ctx.settings.database_url)
    try:
        with thread_server(again) as url:
            kinesis = kinesis_client(url)
            found = {}
            for shard_id in ("shardId-000000000000", "shardId-000000000001"):
                for record in read_all(kinesis, iterator(kinesis, "durable", shard_id))[0]:
                    found[record["SequenceNumber"]] = record["Data"]
            assert found == {s["SequenceNumber"]: bytes([n]) for n, s in enumerate(sent)}
            # Numbering carries on above what was there.
            later = kinesis.put_record(StreamName="durable", PartitionKey="0", Data=b"late")
            same_shard = [s for s in sent if s["ShardId"] == later["ShardId"]]
            assert int(later["SequenceNumber"]) > max(int(s["SequenceNumber"]) for s in same_shard)
    finally:
        again.store.dispose()
