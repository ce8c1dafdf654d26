"""Kinesis durability with real server processes (SQLite and PostgreSQL): a record is stored
once PutRecord/PutRecords answers, and SIGKILL followed by a restart loses none of them."""

from __future__ import annotations

from typing import Any

from tests.support.kinesis import iterator, read_all
from tests.support.server import ServerProcess, kinesis_client


def test_acknowledged_records_survive_sigkill(database_url: str) -> None:
    server = ServerProcess(database_url).start()
    try:
        kinesis = kinesis_client(server.endpoint)
        kinesis.create_stream(StreamName="durable", ShardCount=2)
        acknowledged: dict[str, bytes] = {}
        for n in range(30):
            put = kinesis.put_record(StreamName="durable", PartitionKey=str(n), Data=b"one-%d" % n)
            acknowledged[put["SequenceNumber"]] = b"one-%d" % n
        batch = [{"PartitionKey": str(n), "Data": b"many-%d" % n} for n in range(100)]
        answer = kinesis.put_records(StreamName="durable", Records=batch)
        for sent, result in zip(batch, answer["Records"], strict=True):
            acknowledged[result["SequenceNumber"]] = sent["Data"]
        server.kill()
        server.start()
        kinesis = kinesis_client(server.endpoint)
        found: dict[str, Any] = {}
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            records, _ = read_all(kinesis, iterator(kinesis, "durable", shard))
            found.update({r["SequenceNumber"]: r["Data"] for r in records})
        assert found == acknowledged
    finally:
        server.stop()
