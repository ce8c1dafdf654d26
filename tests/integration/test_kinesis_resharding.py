"""Kinesis resharding through boto3 on SQLite and PostgreSQL: SplitShard, MergeShards and
UpdateShardCount close parents with an ending sequence number, open children, route new
records to the children, and let a reader finish a parent and carry on in its children."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support.kinesis import iterator, read_all
from tests.support.server import kinesis_client

S0, S1, S2, S3, S4 = (f"shardId-00000000000{i}" for i in range(5))


def shards_of(kinesis: Any, name: str, **kw: Any) -> dict[str, dict[str, Any]]:
    return {s["ShardId"]: s for s in kinesis.list_shards(StreamName=name, **kw)["Shards"]}


def test_split_then_merge_keeps_lineage_and_reading_goes_across(kinesis: Any, ctx: Any) -> None:
    kinesis.create_stream(StreamName="grow", ShardCount=1)
    middle = 2**127
    before = [
        kinesis.put_record(StreamName="grow", PartitionKey="k", Data=f"p{n}".encode())
        for n in range(3)
    ]
    reader = iterator(kinesis, "grow", S0)
    kinesis.split_shard(StreamName="grow", ShardToSplit=S0, NewStartingHashKey=str(middle))
    shards = shards_of(kinesis, "grow")
    parent_end = shards[S0]["SequenceNumberRange"]["EndingSequenceNumber"]
    assert parent_end == before[-1]["SequenceNumber"]
    assert shards[S1]["ParentShardId"] == S0 and shards[S2]["ParentShardId"] == S0
    assert shards[S1]["HashKeyRange"] == {
        "StartingHashKey": "0",
        "EndingHashKey": str(middle - 1),
    }
    assert shards[S2]["HashKeyRange"]["StartingHashKey"] == str(middle)
    assert set(shards_of(kinesis, "grow", ShardFilter={"Type": "AT_LATEST"})) == {S1, S2}

    low = kinesis.put_record(StreamName="grow", PartitionKey="x", Data=b"low", ExplicitHashKey="5")
    high = kinesis.put_record(
        StreamName="grow", PartitionKey="x", Data=b"high", ExplicitHashKey=str(middle)
    )
    assert (low["ShardId"], high["ShardId"]) == (S1, S2)
    assert int(low["SequenceNumber"]) > int(parent_end)

    # The reader finishes the parent: its last page has no NextShardIterator, and names both
    # children.
    records, last = read_all(kinesis, reader)
    assert [r["Data"] for r in records] == [b"p0", b"p1", b"p2"]
    assert "NextShardIterator" not in last or last["NextShardIterator"] is None
    assert {c["ShardId"]: c["ParentShards"] for c in last["ChildShards"]} == {
        S1: [S0],
        S2: [S0],
    }
    assert [r["Data"] for r in read_all(kinesis, iterator(kinesis, "grow", S1))[0]] == [b"low"]

    kinesis.merge_shards(StreamName="grow", ShardToMerge=S1, AdjacentShardToMerge=S2)
    shards = shards_of(kinesis, "grow")
    assert shards[S3]["ParentShardId"] == S1 and shards[S3]["AdjacentParentShardId"] == S2
    assert shards[S3]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    for closed in (S0, S1, S2):
        assert "EndingSequenceNumber" in shards[closed]["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shards[S3]["SequenceNumberRange"]
    merged = kinesis.put_record(StreamName="grow", PartitionKey="any", Data=b"merged")
    assert merged["ShardId"] == S3
    _, end = read_all(kinesis, iterator(kinesis, "grow", S2))
    assert [c["ShardId"] for c in end["ChildShards"]] == [S3]
    assert end["ChildShards"][0]["ParentShards"] == [S1, S2]

    # The whole lineage read in order holds every record exactly once.
    everything = []
    for shard_id in (S0, S1, S2, S3):
        everything += [r["Data"] for r in read_all(kinesis, iterator(kinesis, "grow", shard_id))[0]]
    assert sorted(everything) == sorted([b"p0", b"p1", b"p2", b"low", b"high", b"merged"])

    # ShardFilter: the shards open when the stream began, and those open after a moment.
    assert set(shards_of(kinesis, "grow", ShardFilter={"Type": "AT_TRIM_HORIZON"})) == {S0}
    assert set(shards_of(kinesis, "grow", ShardFilter={"Type": "FROM_TRIM_HORIZON"})) == {
        S0,
        S1,
        S2,
        S3,
    }
    assert set(
        shards_of(kinesis, "grow", ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": S1})
    ) == {S2, S3}
    ctx.clock.advance(1)
    now = ctx.clock.now()
    assert set(
        shards_of(kinesis, "grow", ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": now})
    ) == {S3}


def test_resharding_refuses_closed_and_non_adjacent_shards(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="fixed", ShardCount=3)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException) as exc:
        kinesis.merge_shards(StreamName="fixed", ShardToMerge=S0, AdjacentShardToMerge=S2)
    assert "not an adjacent pair" in str(exc.value)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.split_shard(StreamName="fixed", ShardToSplit=S0, NewStartingHashKey="0")
    kinesis.merge_shards(StreamName="fixed", ShardToMerge=S1, AdjacentShardToMerge=S0)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException) as exc:
        kinesis.split_shard(StreamName="fixed", ShardToSplit=S0, NewStartingHashKey="12345")
    assert "already been merged or split" in str(exc.value)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.split_shard(
            StreamName="fixed", ShardToSplit="shardId-000000000099", NewStartingHashKey="1"
        )
    # Writers now reach the merged shard (S3) and the untouched S2 only.
    shards = {
        kinesis.put_record(StreamName="fixed", PartitionKey=str(n), Data=b"x")["ShardId"]
        for n in range(40)
    }
    assert shards == {S2, S3}


def test_update_shard_count_uniform_scaling(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="scale", ShardCount=2)
    for n in range(10):
        kinesis.put_record(StreamName="scale", PartitionKey=str(n), Data=str(n).encode())
    answer = kinesis.update_shard_count(
        StreamName="scale", TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    )
    assert (answer["CurrentShardCount"], answer["TargetShardCount"]) == (2, 4)
    open_shards = kinesis.list_shards(StreamName="scale", ShardFilter={"Type": "AT_LATEST"})[
        "Shards"
    ]
    assert len(open_shards) == 4
    assert open_shards[0]["HashKeyRange"]["StartingHashKey"] == "0"
    assert open_shards[-1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)
    assert {s["ParentShardId"] for s in open_shards} == {S0, S1}
    assert (
        kinesis.describe_stream_summary(StreamName="scale")["StreamDescriptionSummary"][
            "OpenShardCount"
        ]
        == 4
    )
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        kinesis.update_shard_count(
            StreamName="scale", TargetShardCount=9, ScalingType="UNIFORM_SCALING"
        )
    # A reader of an old shard ends there and is told where its keys went.
    records, last = read_all(kinesis, iterator(kinesis, "scale", S0))
    assert records and last.get("NextShardIterator") is None
    assert [c["ShardId"] for c in last["ChildShards"]] == [S2, S3]


def test_shard_quota(kinesis: Any) -> None:
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        kinesis.create_stream(StreamName="huge", ShardCount=501)
    limits = kinesis.describe_limits()
    assert limits["ShardLimit"] == 500 and limits["OpenShardCount"] == 0


def test_writes_during_a_split_all_land_once(kinesis: Any, endpoint: str) -> None:
    kinesis.create_stream(StreamName="live", ShardCount=1)
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    started = threading.Barrier(5)

    def produce(worker: int) -> None:
        client = kinesis_client(endpoint)
        started.wait()
        for n in range(20):
            put = client.put_record(StreamName="live", PartitionKey=f"{worker}-{n}", Data=b"x")
            with lock:
                acknowledged.append((put["ShardId"], put["SequenceNumber"]))

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    started.wait()
    kinesis.split_shard(StreamName="live", ShardToSplit=S0, NewStartingHashKey=str(2**127))
    for t in threads:
        t.join()
    stored = []
    for shard_id in (S0, S1, S2):
        records, _ = read_all(kinesis, iterator(kinesis, "live", shard_id))
        stored += [(shard_id, r["SequenceNumber"]) for r in records]
    assert sorted(stored) == sorted(acknowledged)
    assert len(stored) == 80
    # Nothing was written to the parent after its EndingSequenceNumber.
    end = shards_of(kinesis, "live")[S0]["SequenceNumberRange"]["EndingSequenceNumber"]
    assert all(int(seq) <= int(end) for shard, seq in stored if shard == S0)
