"""SQS requests a boto3 user gets wrong, and the answers AWS gives them: classic error codes
(boto3 reports the query-compatible code), ranges botocore does not check, batch rules,
message size counted with attributes, and the fields clients read. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


def error_of(call: Callable[[], Any]) -> tuple[str, int]:
    """(code as boto3 reports it, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_out_of_range_parameters(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="ranges")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    for call in (
        lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11),
        lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=0),
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21),
        lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=43_201),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901),
        lambda: sqs.list_queues(MaxResults=1001),
        lambda: sqs.list_queues(MaxResults=1, NextToken="not-a-token"),
    ):
        assert error_of(call) == ("InvalidParameterValue", 400)
    for attributes in (
        {"VisibilityTimeout": "43201"},
        {"MessageRetentionPeriod": "59"},
        {"MaximumMessageSize": "1023"},
        {"ReceiveMessageWaitTimeSeconds": "21"},
        {"DelaySeconds": "abc"},
    ):
        assert error_of(lambda a=attributes: sqs.set_queue_attributes(QueueUrl=url, Attributes=a))[
            0
        ] == ("InvalidAttributeValue")
    assert error_of(
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"])  # type: ignore[list-item]
    )[0] == ("InvalidAttributeName")
    # Nothing bad was applied, and the message is still there.
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "VisibilityTimeout"
    ] == ("30")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["kept"]


def test_nonexistent_queue_everywhere(sqs: Any, endpoint: str) -> None:
    url = f"{endpoint}/{ACCOUNT}/nowhere"
    for call in (
        lambda: sqs.get_queue_url(QueueName="nowhere"),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
        lambda: sqs.list_queue_tags(QueueUrl=url),
        lambda: sqs.list_dead_letter_source_queues(QueueUrl=url),
    ):
        assert error_of(call) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    # The modelled error class matches too, as code written for AWS catches it.
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nowhere")
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:nowhere"
    assert error_of(lambda: sqs.start_message_move_task(SourceArn=arn))[0] == (
        "ResourceNotFoundException"
    )


def test_create_conflicts_and_names(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="named", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    again = sqs.create_queue(QueueName="named", Attributes={"VisibilityTimeout": "60"})
    assert again["QueueUrl"] == url
    assert error_of(
        lambda: sqs.create_queue(QueueName="named", Attributes={"VisibilityTimeout": "61"})
    ) == ("QueueAlreadyExists", 400)
    for name, attributes in (
        ("a" * 81, {}),
        ("has space", {}),
        ("plain.fifo", {}),
        ("nofifo", {"FifoQueue": "true"}),
    ):
        assert error_of(
            lambda n=name, a=attributes: sqs.create_queue(QueueName=n, Attributes=a)
        ) == ("InvalidParameterValue", 400)
    assert error_of(
        lambda: sqs.create_queue(QueueName="std", Attributes={"ContentBasedDeduplication": "true"})
    ) == ("InvalidAttributeName", 400)
    assert error_of(lambda: sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)}))[
        0
    ] == ("InvalidParameterValue")
    sqs.delete_queue(QueueUrl=url)
    assert error_of(lambda: sqs.create_queue(QueueName="named")) == (
        "AWS.SimpleQueueService.QueueDeletedRecently",
        400,
    )


def test_message_size_counts_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="sized")["QueueUrl"]
    attribute = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 bytes
    sqs.send_message(QueueUrl=url, MessageBody="x" * 262_136, MessageAttributes=attribute)
    assert error_of(
        lambda: sqs.send_message(
            QueueUrl=url, MessageBody="x" * 262_137, MessageAttributes=attribute
        )
    ) == ("InvalidParameterValue", 400)
    assert error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="")) == (
        "MissingParameter",
        400,
    )
    assert error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="a\x00b"))[0] == (
        "InvalidMessageContents"
    )
    eleven = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    assert error_of(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=eleven)
    )[0] == ("InvalidParameterValue")


def test_batch_rules_and_partial_failures(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="batches")["QueueUrl"]
    send = sqs.send_message_batch
    assert error_of(lambda: send(QueueUrl=url, Entries=[])) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        400,
    )
    eleven = [{"Id": str(i), "MessageBody": "x"} for i in range(11)]
    assert error_of(lambda: send(QueueUrl=url, Entries=eleven))[0] == (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    )
    twice = [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]
    assert error_of(lambda: send(QueueUrl=url, Entries=twice))[0] == (
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    )
    assert error_of(lambda: send(QueueUrl=url, Entries=[{"Id": "a b", "MessageBody": "x"}]))[0] == (
        "AWS.SimpleQueueService.InvalidBatchEntryId"
    )
    big = [{"Id": str(i), "MessageBody": "x" * 30_000} for i in range(10)]
    assert error_of(lambda: send(QueueUrl=url, Entries=big))[0] == (
        "AWS.SimpleQueueService.BatchRequestTooLong"
    )
    mixed = send(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "MessageBody": "fine"},
            {"Id": "late", "MessageBody": "x", "DelaySeconds": 1000},
        ],
    )
    (ok,) = mixed["Successful"]
    assert ok["Id"] == "good"
    assert ok["MD5OfMessageBody"] == hashlib.md5(b"fine").hexdigest()
    (failed,) = mixed["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == (
        "late",
        "InvalidParameterValue",
        True,
    )
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    handle = message["ReceiptHandle"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "real", "ReceiptHandle": handle}, {"Id": "junk", "ReceiptHandle": "x"}],
    )
    assert [e["Id"] for e in deleted["Successful"]] == ["real"]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("junk", "ReceiptHandleIsInvalid")]


def test_visibility_changes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="visible")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    handle = message["ReceiptHandle"]
    change = sqs.change_message_visibility
    assert error_of(lambda: change(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_201))[
        0
    ] == ("InvalidParameterValue")
    assert error_of(lambda: change(QueueUrl=url, ReceiptHandle="bogus", VisibilityTimeout=5))[
        0
    ] == ("ReceiptHandleIsInvalid")
    change(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert error_of(lambda: change(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=5))[0] == (
        "AWS.SimpleQueueService.MessageNotInflight"
    )
    (again,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
    assert again["ReceiptHandle"] != handle
    result = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": again["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "bogus", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["a"]
    assert [e["Id"] for e in result["Failed"]] == ["b"]


def test_malformed_attribute_names_are_refused_not_crashed(endpoint: str, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="odd")["QueueUrl"]
    response = httpx.post(
        endpoint + "/",
        content=json.dumps({"QueueUrl": url, "AttributeNames": [{"a": 1}]}),
        headers={
            "X-Amz-Target": "AmazonSQS.GetQueueAttributes",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "com.amazonaws.sqs#InvalidAttributeName"
