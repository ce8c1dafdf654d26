"""Helpers of the Kinesis tests: raw JSON 1.1 calls (to send what boto3 refuses to) and
reading a shard to its current end."""

from __future__ import annotations

from typing import Any

import httpx

TARGET = "Kinesis_20131202."


def raw(endpoint: str, operation: str, body: Any, content: bytes | None = None) -> httpx.Response:
    """POST one Kinesis operation as JSON 1.1 without boto3's client-side validation."""
    return httpx.post(
        f"{endpoint}/",
        content=content if content is not None else httpx.Request("POST", "/", json=body).content,
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )


def error_type(response: httpx.Response) -> str:
    """The error code of a JSON protocol answer (must be a 4xx with __type)."""
    assert response.status_code == 400, response.text
    return str(response.json()["__type"])


def read_all(kinesis: Any, iterator: str | None, limit: int = 10000) -> tuple[list[dict], Any]:
    """GetRecords until a page comes back empty or the shard ends; (records, last answer)."""
    records: list[dict] = []
    answer: Any = None
    while iterator:
        answer = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        records.extend(answer["Records"])
        iterator = answer.get("NextShardIterator")
        if not answer["Records"]:
            break
    return records, answer


def iterator(kinesis: Any, stream: str, shard: str, kind: str = "TRIM_HORIZON", **kw: Any) -> str:
    """A shard iterator."""
    return str(
        kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=kind, **kw)[
            "ShardIterator"
        ]
    )
