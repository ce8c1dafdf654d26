"""ReceiveRequestAttemptId on FIFO queues, through boto3 on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_sqs import code_of


def test_a_retried_fifo_receive_gets_the_same_messages(sqs: Any, ctx: Any) -> None:
    """ReceiveRequestAttemptId: within five minutes, the same attempt returns the same
    messages and receipt handles, until one of them is deleted or changes visibility."""
    url = sqs.create_queue(
        QueueName="retried.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for body in ("m1", "m2", "m3"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")

    def receive(attempt: str, count: int = 2) -> list[tuple[str, str]]:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=count,
            ReceiveRequestAttemptId=attempt,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        return [(m["Body"], m["ReceiptHandle"]) for m in got]

    first = receive("attempt-1")
    assert [body for body, _ in first] == ["m1", "m2"]
    assert receive("attempt-1") == first  # the response was lost: retry, same handles
    assert receive("attempt-2") == []  # the group is in flight
    ctx.clock.advance(31)  # visibility timeout (30 s) over, still within five minutes
    assert receive("attempt-1") == first
    # The repeat started the visibility timeout again: nobody else takes them meanwhile.
    assert receive("attempt-2") == []
    ctx.clock.advance(31)
    # Another attempt may now take the messages; the first attempt's record is then stale.
    second = receive("attempt-2", 3)
    assert [body for body, _ in second] == ["m1", "m2", "m3"]
    assert receive("attempt-1") == []  # a fresh receive: the group is in flight again
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second[0][1])
    ctx.clock.advance(301)
    assert [body for body, _ in receive("attempt-2", 3)] == ["m2", "m3"]
    with pytest.raises(ClientError) as err:
        receive("not allowed: é")
    assert code_of(err) == "InvalidParameterValue"
