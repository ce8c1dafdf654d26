"""boto3 (AWS JSON 1.0) and raw query/XML requests against the SQS adapter, on SQLite and
PostgreSQL. Time moves through the clock, never by sleeping through a timeout."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import sqs_client

ACCOUNT = "123456789012"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def attributes_md5(attributes: dict[str, dict[str, Any]]) -> str:
    """MD5OfMessageAttributes computed independently of the server (SQS developer guide)."""
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        out += struct.pack("!I", len(name.encode())) + name.encode()
        out += struct.pack("!I", len(value["DataType"])) + value["DataType"].encode()
        if "BinaryValue" in value:
            data = value["BinaryValue"]
            out += b"\x02" + struct.pack("!I", len(data)) + data
        else:
            data = value["StringValue"].encode()
            out += b"\x01" + struct.pack("!I", len(data)) + data
    return hashlib.md5(out).hexdigest()


def receive(sqs: Any, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def counts(sqs: Any, url: str) -> tuple[int, int, int]:
    got = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(got["ApproximateNumberOfMessages"]),
        int(got["ApproximateNumberOfMessagesNotVisible"]),
        int(got["ApproximateNumberOfMessagesDelayed"]),
    )


# --- queues --------------------------------------------------------------------------------------
def test_create_get_list_delete(sqs: Any, ctx: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert url == f"{endpoint}/{ACCOUNT}/orders"
    # Same attributes (or none given): the existing queue's URL.
    assert (
        sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        == url
    )
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as exc:
        sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "10"})
    assert code_of(exc) == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    for name in ("a-1", "a-2", "a-3", "b-1"):
        sqs.create_queue(QueueName=name)
    assert len(sqs.list_queues()["QueueUrls"]) == 5
    assert [u.rsplit("/", 1)[1] for u in sqs.list_queues(QueueNamePrefix="a-")["QueueUrls"]] == [
        "a-1",
        "a-2",
        "a-3",
    ]
    first = sqs.list_queues(MaxResults=2)
    assert len(first["QueueUrls"]) == 2 and "NextToken" in first
    second = sqs.list_queues(MaxResults=2, NextToken=first["NextToken"])
    third = sqs.list_queues(MaxResults=2, NextToken=second["NextToken"])
    assert "NextToken" not in third
    names = first["QueueUrls"] + second["QueueUrls"] + third["QueueUrls"]
    assert len(set(names)) == 5
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as exc:
        sqs.get_queue_url(QueueName="orders")
    assert code_of(exc) == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(sqs.exceptions.QueueDeletedRecently):
        sqs.create_queue(QueueName="orders")
    ctx.clock.advance(61)
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url


def test_invalid_names_and_attributes(sqs: Any) -> None:
    for name in ("", "has space", "x" * 81, "bad.name"):
        with pytest.raises(ClientError) as exc:
            sqs.create_queue(QueueName=name)
        assert code_of(exc) == "InvalidParameterValue", name
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="plain", Attributes={"FifoQueue": "true"})
    assert code_of(exc) == "InvalidParameterValue"
    bad_values = {
        "VisibilityTimeout": "43201",
        "DelaySeconds": "901",
        "MessageRetentionPeriod": "59",
        "MaximumMessageSize": "1023",
        "ReceiveMessageWaitTimeSeconds": "21",
        "RedrivePolicy": "{not json",
    }
    for key, value in bad_values.items():
        with pytest.raises(sqs.exceptions.InvalidAttributeValue):
            sqs.create_queue(QueueName="q", Attributes={key: value})
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName="q", Attributes={"Colour": "blue"})
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName="q", Attributes={"ContentBasedDeduplication": "true"})
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"])
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"})
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "-1"})


def test_queue_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="attrs")["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["VisibilityTimeout"] == "30"
    assert got["MessageRetentionPeriod"] == "345600"
    assert got["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:attrs"
    assert "FifoQueue" not in got
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes") is None
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert got["Attributes"] == {"VisibilityTimeout": "45"}
    fifo = sqs.create_queue(
        QueueName="hi.fifo",
        Attributes={
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert got["FifoQueue"] == "true"
    assert got["ContentBasedDeduplication"] == "false"
    assert got["DeduplicationScope"] == "messageGroup"
    assert got["FifoThroughputLimit"] == "perMessageGroupId"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "false"})


def test_queue_found_by_path_whatever_the_host(sqs: Any) -> None:
    sqs.create_queue(QueueName="anyhost")
    for url in (
        f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/anyhost",
        f"https://queue.amazonaws.com/{ACCOUNT}/anyhost",
    ):
        sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert len(receive(sqs, url, MaxNumberOfMessages=10)) == 2
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(
            QueueUrl="https://queue.amazonaws.com/999999999999/anyhost", MessageBody="x"
        )
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl="https://queue.amazonaws.com/nope", MessageBody="x")
    assert code_of(exc) == "InvalidAddress"


# --- messages ------------------------------------------------------------------------------------
def test_send_receive_digests_and_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="digests")["QueueUrl"]
    attributes = {
        "name": {"DataType": "String", "StringValue": "Zoë ✓"},
        "count": {"DataType": "Number", "StringValue": "42.5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "cu.x": {"DataType": "String.custom", "StringValue": "c"},
    }
    body = "héllo 🌍"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes=attributes,
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
        },
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == attributes_md5(attributes)
    assert "MD5OfMessageSystemAttributes" in sent
    [msg] = receive(sqs, url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["Body"] == body
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xff"
    assert msg["MD5OfMessageAttributes"] == attributes_md5(msg["MessageAttributes"])
    system = msg["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert system["AWSTraceHeader"] == "Root=1-abc"
    assert int(system["SentTimestamp"]) <= int(system["ApproximateFirstReceiveTimestamp"])
    # Only what was asked for: a prefix pattern selects, and the digest covers the selection.
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
    )
    [again] = receive(
        sqs, url, MessageAttributeNames=["cu.*", "count"], AttributeNames=["SentTimestamp"]
    )
    assert set(again["MessageAttributes"]) == {"cu.x", "count"}
    assert again["MD5OfMessageAttributes"] == attributes_md5(again["MessageAttributes"])
    assert set(again["Attributes"]) == {"SentTimestamp"}
    assert receive(sqs, url) == []


def test_invalid_messages(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="bad", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="nul \x00 here")
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert code_of(exc) == "InvalidParameterValue"
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=too_many)
    assert code_of(exc) == "InvalidParameterValue"
    for name, value in (
        ("AWS.reserved", {"DataType": "String", "StringValue": "v"}),
        ("ok", {"DataType": "Weird", "StringValue": "v"}),
        ("num", {"DataType": "Number", "StringValue": "abc"}),
    ):
        with pytest.raises(ClientError) as exc:
            sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={name: value})
        assert code_of(exc) == "InvalidParameterValue", name
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert code_of(exc) == "InvalidParameterValue"


def test_visibility_timeout_and_receipt_handles(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="vis", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    [first] = receive(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert receive(sqs, url) == []
    assert counts(sqs, url) == (0, 1, 0)
    # The server's clock moves forward through the test-only endpoint.
    assert httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 31}).status_code == 200
    [second] = receive(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # An older handle of a message received again: success, but nothing is deleted.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)
    # Deleting again with the same handle is fine too.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    other = sqs.create_queue(QueueName="vis2")["QueueUrl"]
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=other, ReceiptHandle=second["ReceiptHandle"])


def test_receive_visibility_override_and_change(sqs: Any, ctx: Any) -> None:
    url = sqs.create_queue(QueueName="chg")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    msgs = receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=5)
    assert sorted(m["Body"] for m in msgs) == ["0", "1", "2"]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=100
    )
    result = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["a"]
    assert result["Failed"][0]["Id"] == "b"
    assert result["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert [m["Body"] for m in receive(sqs, url)] == [msgs[1]["Body"]]
    ctx.clock.advance(6)
    assert [m["Body"] for m in receive(sqs, url)] == [msgs[2]["Body"]]
    late = receive_visible_handle(sqs, url, ctx)
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=late, VisibilityTimeout=10)
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=43201
        )
    assert code_of(exc) == "InvalidParameterValue"


def receive_visible_handle(sqs: Any, url: str, ctx: Any) -> str:
    """A current receipt handle of a message whose visibility timeout has already run out."""
    sqs.send_message(QueueUrl=url, MessageBody="late")
    [msg] = [
        m
        for m in receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=1)
        if m["Body"] == "late"
    ]
    ctx.clock.advance(2)
    return str(msg["ReceiptHandle"])


def test_delays(sqs: Any, ctx: Any) -> None:
    url = sqs.create_queue(QueueName="delayed", Attributes={"DelaySeconds": "10"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="long-delay", DelaySeconds=100)
    assert counts(sqs, url) == (1, 0, 2)
    assert [
        m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=900)
    ] == ["no-delay"]
    ctx.clock.advance(11)
    assert [
        m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=900)
    ] == ["queue-delay"]
    ctx.clock.advance(90)
    assert [m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10)] == ["long-delay"]


def test_retention(sqs: Any, ctx: Any) -> None:
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    ctx.clock.advance(30)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    ctx.clock.advance(31)
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10)] == ["new"]


def test_a_receive_never_returns_a_message_past_retention(sqs: Any, ctx: Any) -> None:
    # Receives delete expired messages only now and then; in between they must still skip them.
    url = sqs.create_queue(QueueName="lapse", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="brief")
    ctx.clock.advance(59.8)
    assert [m["Body"] for m in receive(sqs, url, VisibilityTimeout=0)] == ["brief"]
    ctx.clock.advance(0.4)  # past retention, a moment after the last receive
    assert receive(sqs, url, VisibilityTimeout=0) == []
    assert counts(sqs, url) == (0, 0, 0)


def test_batches(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="batch", Attributes={"MaximumMessageSize": "2048"})["QueueUrl"]
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]
        )
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "no spaces", "MessageBody": "x"}])
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * 1000} for i in range(3)]
        )
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "good",
                "MessageBody": "fine",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "bad", "MessageBody": "\x01"},
            {"Id": "later", "MessageBody": "later", "DelaySeconds": 5},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["good", "later"]
    good = [e for e in result["Successful"] if e["Id"] == "good"][0]
    assert good["MD5OfMessageBody"] == hashlib.md5(b"fine").hexdigest()
    assert good["MD5OfMessageAttributes"] == attributes_md5(
        {"k": {"DataType": "String", "StringValue": "v"}}
    )
    assert result["Failed"] == [
        {
            "Id": "bad",
            "SenderFault": True,
            "Code": "InvalidMessageContents",
            "Message": result["Failed"][0]["Message"],
        }
    ]
    [msg] = receive(sqs, url, MaxNumberOfMessages=10)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "x", "ReceiptHandle": msg["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": "junk"},
        ],
    )
    assert [e["Id"] for e in deleted["Successful"]] == ["x"]
    assert deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.delete_message_batch(QueueUrl=url, Entries=[])


def test_dead_letter_queue(sqs: Any, ctx: Any) -> None:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    src = sqs.create_queue(
        QueueName="src", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "5"}
    )["QueueUrl"]
    src_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:src"
    stored = json.loads(
        sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert stored == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for attempt in range(1, 4):
        [msg] = receive(sqs, src, AttributeNames=["ApproximateReceiveCount"])
        assert msg["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        ctx.clock.advance(6)
    # The receive that would exceed maxReceiveCount moves the message instead.
    assert receive(sqs, src) == []
    [dead] = receive(sqs, dlq, MessageSystemAttributeNames=["All"])
    assert dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == src_arn
    # A policy naming a missing queue, a wrong type, or a DLQ that refuses is rejected.
    missing = json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:nope", "maxReceiveCount": 1}
    )
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="src2", Attributes={"RedrivePolicy": missing})
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.create_queue(
            QueueName="src2",
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 0})
            },
        )
    sqs.set_queue_attributes(
        QueueUrl=dlq,
        Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})},
    )
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="src2", Attributes={"RedrivePolicy": policy})
    assert code_of(exc) == "InvalidParameterValue"
    sqs.set_queue_attributes(
        QueueUrl=dlq,
        Attributes={
            "RedriveAllowPolicy": json.dumps(
                {
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [f"arn:aws:sqs:us-east-1:{ACCOUNT}:src2"],
                }
            )
        },
    )
    sqs.create_queue(QueueName="src2", Attributes={"RedrivePolicy": policy})
    # Removing the policy detaches the source.
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert [
        u.rsplit("/", 1)[1] for u in sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    ] == ["src2"]


def test_message_move_tasks(sqs: Any, ctx: Any) -> None:
    dlq = sqs.create_queue(QueueName="mdlq")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:mdlq"
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName="msrc", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=src, MessageBody=str(i))
    assert len(receive(sqs, src, MaxNumberOfMessages=10, VisibilityTimeout=0)) == 5
    assert receive(sqs, src, MaxNumberOfMessages=10) == []
    assert counts(sqs, dlq) == (5, 0, 0)
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:ghost")
    with pytest.raises(ClientError) as exc:
        sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:msrc")
    assert code_of(exc) == "InvalidParameterValue"
    # With a rate the task runs on the clock: 2 messages a second.
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=2)[
        "TaskHandle"
    ]
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "RUNNING" and task["ApproximateNumberOfMessagesToMove"] == 5
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn=dlq_arn)
    ctx.clock.advance(1)
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["ApproximateNumberOfMessagesMoved"] == 2
    assert sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"] == 2
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "CANCELLED" and "TaskHandle" not in task
    with pytest.raises(ClientError):
        sqs.cancel_message_move_task(TaskHandle=handle)
    # Without a rate everything moves back to the source at once.
    sqs.start_message_move_task(SourceArn=dlq_arn)
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert [t["Status"] for t in tasks] == ["COMPLETED", "CANCELLED"]
    assert counts(sqs, dlq) == (0, 0, 0)
    assert sorted(m["Body"] for m in receive(sqs, src, MaxNumberOfMessages=10)) == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]


def test_purge_and_tags(sqs: Any, ctx: Any) -> None:
    url = sqs.create_queue(QueueName="tagged", tags={"team": "core"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "team": "edge"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "edge", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)
    ctx.clock.advance(61)
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.tag_queue(QueueUrl=url + "x", Tags={"a": "b"})


# --- FIFO -----------------------------------------------------------------------------------------
def test_fifo_order_groups_and_dedup(sqs: Any, ctx: Any) -> None:
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert code_of(exc) == "MissingParameter"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=5,
        )
    assert code_of(exc) == "InvalidParameterValue"
    sequences = []
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A")):
        sent = sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body
        )
        sequences.append(int(sent["SequenceNumber"]))
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    # A duplicate inside the window answers like the original and enqueues nothing.
    dup = sqs.send_message(
        QueueUrl=url, MessageBody="other", MessageGroupId="A", MessageDeduplicationId="a1"
    )
    assert int(dup["SequenceNumber"]) == sequences[0]
    [m1] = receive(sqs, url, AttributeNames=["All"])
    assert m1["Body"] == "a1" and m1["Attributes"]["MessageGroupId"] == "A"
    # Group A is blocked while a1 is in flight; B is not.
    [b1] = receive(sqs, url, MaxNumberOfMessages=10)
    assert b1["Body"] == "b1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=b1["ReceiptHandle"])
    assert receive(sqs, url, MaxNumberOfMessages=10) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"])
    batch = receive(sqs, url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in batch] == ["a2", "a3"]
    sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
    )
    # The window survives deletion, and closes after five minutes.
    sqs.send_message(
        QueueUrl=url, MessageBody="a1 again", MessageGroupId="A", MessageDeduplicationId="a1"
    )
    assert receive(sqs, url, MaxNumberOfMessages=10) == []
    ctx.clock.advance(301)
    sqs.send_message(
        QueueUrl=url, MessageBody="a1 again", MessageGroupId="A", MessageDeduplicationId="a1"
    )
    assert [m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10)] == ["a1 again"]


def test_fifo_content_dedup_and_scope(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="cbd.fifo",
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "DeduplicationScope": "messageGroup",
        },
    )["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g1")
    again = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g1")
    other_group = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g2")
    assert first["MessageId"] == again["MessageId"] != other_group["MessageId"]
    bodies = [
        m["Attributes"]["MessageGroupId"]
        for m in receive(sqs, url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])
    ]
    assert sorted(bodies) == ["g1", "g2"]
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "x", "MessageGroupId": "g3"},
            {"Id": "2", "MessageBody": "x", "MessageGroupId": "g3"},
            {"Id": "3", "MessageBody": "y"},
        ],
    )
    ok = {e["Id"]: e for e in result["Successful"]}
    assert ok["1"]["MessageId"] == ok["2"]["MessageId"]
    assert result["Failed"][0]["Id"] == "3" and result["Failed"][0]["Code"] == "MissingParameter"


def test_fifo_dead_letter_keeps_group_order(sqs: Any, ctx: Any) -> None:
    dlq = sqs.create_queue(QueueName="d.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    policy = json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:d.fifo", "maxReceiveCount": 1}
    )
    src = sqs.create_queue(
        QueueName="s.fifo",
        Attributes={
            "FifoQueue": "true",
            "RedrivePolicy": policy,
            "ContentBasedDeduplication": "true",
        },
    )["QueueUrl"]
    with pytest.raises(ClientError):
        sqs.create_queue(QueueName="std", Attributes={"RedrivePolicy": policy})
    for body in ("1", "2"):
        sqs.send_message(QueueUrl=src, MessageBody=body, MessageGroupId="g")
    [m] = receive(sqs, src, VisibilityTimeout=1)
    assert m["Body"] == "1"
    ctx.clock.advance(2)
    # "1" goes to the DLQ; "2", next in its group, is handed out in the same receive.
    assert [x["Body"] for x in receive(sqs, src)] == ["2"]
    assert [x["Body"] for x in receive(sqs, dlq)] == ["1"]


# --- long polling ---------------------------------------------------------------------------------
def test_long_poll_woken_by_send(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    got: list[Any] = []

    def waiter() -> None:
        started = time.monotonic()
        msgs = (
            sqs_client(endpoint)
            .receive_message(QueueUrl=url, WaitTimeSeconds=20)
            .get("Messages", [])
        )
        got.append((msgs, time.monotonic() - started))

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    thread.join(10)
    [(msgs, elapsed)] = got
    assert [m["Body"] for m in msgs] == ["wake up"]
    assert elapsed < 5


def test_long_poll_times_out_and_queue_default(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="quiet", Attributes={"ReceiveMessageWaitTimeSeconds": "1"})[
        "QueueUrl"
    ]
    started = time.monotonic()
    assert receive(sqs, url) == []
    assert 0.9 <= time.monotonic() - started < 5
    started = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=0) == []
    assert time.monotonic() - started < 0.9


def test_concurrent_receivers_never_share_a_message(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="shared", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    for start in range(0, 120, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        )
    seen: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        client = sqs_client(endpoint)
        while True:
            msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=5).get("Messages", [])
            if not msgs:
                return
            with lock:
                seen.extend(m["Body"] for m in msgs)

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(seen, key=int) == [str(i) for i in range(120)]


# --- wire details --------------------------------------------------------------------------------
def test_json_error_shape(endpoint: str) -> None:
    response = httpx.post(
        endpoint,
        content=json.dumps({"QueueName": "missing"}),
        headers={
            "X-Amz-Target": "AmazonSQS.GetQueueUrl",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert (
        response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    )


def _xml(response: httpx.Response) -> ET.Element:
    text = response.text.replace(' xmlns="http://queue.amazonaws.com/doc/2012-11-05/"', "")
    return ET.fromstring(text)


def test_query_protocol(endpoint: str) -> None:
    def post(path: str = "", **form: str) -> httpx.Response:
        return httpx.post(f"{endpoint}{path}", data={"Version": "2012-11-05", **form})

    created = post(
        Action="CreateQueue",
        QueueName="xmlq",
        **{
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "40",
            "Tag.1.Key": "k",
            "Tag.1.Value": "v",
        },
    )
    assert created.status_code == 200, created.text
    url = _xml(created).findtext("CreateQueueResult/QueueUrl")
    assert url == f"{endpoint}/{ACCOUNT}/xmlq"
    sent = post(
        Action="SendMessage",
        QueueUrl=url,
        MessageBody="<hello & bye>",
        **{
            "MessageAttribute.1.Name": "n",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "v",
        },
    )
    result = _xml(sent).find("SendMessageResult")
    assert result is not None
    assert result.findtext("MD5OfMessageBody") == hashlib.md5(b"<hello & bye>").hexdigest()
    assert result.findtext("MD5OfMessageAttributes") == attributes_md5(
        {"n": {"DataType": "String", "StringValue": "v"}}
    )
    # Posted to the queue's own URL: the path is the QueueUrl.
    received = post(
        f"/{ACCOUNT}/xmlq",
        Action="ReceiveMessage",
        **{"AttributeName.1": "All", "MessageAttributeName.1": "All", "MaxNumberOfMessages": "5"},
    )
    message = _xml(received).find("ReceiveMessageResult/Message")
    assert message is not None, received.text
    assert message.findtext("Body") == "<hello & bye>"
    attrs = {a.findtext("Name"): a.findtext("Value") for a in message.findall("Attribute")}
    assert attrs["ApproximateReceiveCount"] == "1"
    assert message.findtext("MessageAttribute/Value/StringValue") == "v"
    deleted = post(
        f"/{ACCOUNT}/xmlq",
        Action="DeleteMessage",
        ReceiptHandle=message.findtext("ReceiptHandle") or "",
    )
    assert deleted.status_code == 200 and "DeleteMessageResponse" in deleted.text
    batch = post(
        Action="SendMessageBatch",
        QueueUrl=url,
        **{
            "SendMessageBatchRequestEntry.1.Id": "one",
            "SendMessageBatchRequestEntry.1.MessageBody": "1",
            "SendMessageBatchRequestEntry.2.Id": "two",
            "SendMessageBatchRequestEntry.2.MessageBody": "2",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "5",
        },
    )
    ids = [
        e.findtext("Id")
        for e in _xml(batch).findall("SendMessageBatchResult/SendMessageBatchResultEntry")
    ]
    assert ids == ["one", "two"]
    got = post(Action="GetQueueAttributes", QueueUrl=url, **{"AttributeName.1": "All"})
    values = {
        a.findtext("Name"): a.findtext("Value")
        for a in _xml(got).findall("GetQueueAttributesResult/Attribute")
    }
    assert values["VisibilityTimeout"] == "40"
    assert values["ApproximateNumberOfMessages"] == "1"
    assert values["ApproximateNumberOfMessagesDelayed"] == "1"
    tags = post(Action="ListQueueTags", QueueUrl=url)
    assert _xml(tags).findtext("ListQueueTagsResult/Tag/Key") == "k"
    listed = post(Action="ListQueues", QueueNamePrefix="xml")
    assert [e.text for e in _xml(listed).findall("ListQueuesResult/QueueUrl")] == [url]
    missing = post(Action="GetQueueUrl", QueueName="nope")
    assert missing.status_code == 400
    error = _xml(missing)
    assert error.findtext("Error/Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert error.findtext("Error/Type") == "Sender"
    empty = post(Action="DeleteMessageBatch", QueueUrl=url)
    assert _xml(empty).findtext("Error/Code") == "AWS.SimpleQueueService.EmptyBatchRequest"
    unknown = post(Action="FlyToTheMoon")
    assert _xml(unknown).findtext("Error/Code") == "InvalidAction"


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("GetQueueUrl", {"QueueName": [1, "a"]}),
        ("CancelMessageMoveTask", {"TaskHandle": {"a": {"b": []}}}),
        ("ListMessageMoveTasks", {"SourceArn": {"a": 1}}),
        ("SendMessage", {"QueueUrl": 7, "MessageBody": "x"}),
        ("ReceiveMessage", {"QueueUrl": ["x"]}),
    ],
)
def test_a_string_parameter_of_another_type_is_invalid(
    endpoint: str, operation: str, body: dict[str, Any]
) -> None:
    # boto3 validates types itself, so the wire is spoken directly, as another SDK might.
    response = httpx.post(
        endpoint,
        content=json.dumps(body),
        headers={
            "X-Amz-Target": f"AmazonSQS.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "com.amazonaws.sqs#InvalidParameterValue"
    assert response.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
