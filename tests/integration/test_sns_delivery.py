"""Publishing through boto3 into subscribed SQS queues, on SQLite and PostgreSQL: the SNS
envelope, raw delivery, filter policies, FIFO topics, PublishBatch, durability and waking
long-polling receivers. Time moves through the clock, never by sleeping through a timeout."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from engine.services.queues import messages
from engine.services.queues.common import Caller
from tests.conftest import make_context
from tests.support.server import sqs_client

ACCOUNT = "123456789012"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def subscribed_queue(
    sns: Any, sqs: Any, topic: str, name: str, **attributes: str
) -> tuple[str, str]:
    """A new queue subscribed to ``topic``: (queue URL, subscription ARN)."""
    queue_attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url, sub["SubscriptionArn"]


def bodies(sqs: Any, url: str, **kwargs: Any) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs)
    return [m["Body"] for m in got.get("Messages", [])]


def test_envelope(sns: Any, sqs: Any, endpoint: str) -> None:
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url, sub = subscribed_queue(sns, sqs, topic, "orders-q")
    sent = sns.publish(
        TopicArn=topic,
        Message="order 17 placed",
        Subject="New order",
        MessageAttributes={
            "store": {"DataType": "String", "StringValue": "north"},
            "total": {"DataType": "Number", "StringValue": "42.5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    [body] = bodies(sqs, url)
    note = json.loads(body)
    assert note["Type"] == "Notification"
    assert note["MessageId"] == sent["MessageId"]
    assert note["TopicArn"] == topic
    assert note["Subject"] == "New order"
    assert note["Message"] == "order 17 placed"
    assert note["Timestamp"].endswith("Z") and "T" in note["Timestamp"]
    assert note["SignatureVersion"] == "1"
    assert note["Signature"]
    assert note["SigningCertURL"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert note["UnsubscribeURL"] == f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={sub}"
    assert note["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "north"},
        "total": {"Type": "Number", "Value": "42.5"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }
    # Without a subject the envelope has no Subject member.
    sns.publish(TopicArn=topic, Message="no subject")
    assert "Subject" not in json.loads(bodies(sqs, url)[0])


def test_raw_delivery_and_message_structure(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="raw")["TopicArn"]
    raw_url, _ = subscribed_queue(sns, sqs, topic, "raw-q", RawMessageDelivery="true")
    wrapped_url, _ = subscribed_queue(sns, sqs, topic, "wrapped-q")
    sns.publish(
        TopicArn=topic,
        Message="plain text",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    got = sqs.receive_message(QueueUrl=raw_url, MessageAttributeNames=["All"])["Messages"]
    assert got[0]["Body"] == "plain text"
    assert got[0]["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "greeting"}
    }
    assert json.loads(bodies(sqs, wrapped_url)[0])["Message"] == "plain text"
    sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "for everyone", "sqs": "for queues"}),
    )
    assert bodies(sqs, raw_url) == ["for queues"]
    assert json.loads(bodies(sqs, wrapped_url)[0])["Message"] == "for queues"


def test_filter_policy_on_attributes(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    policy = {
        "color": ["red", {"prefix": "bl"}],
        "size": [{"numeric": [">", 10, "<=", 20]}],
    }
    url, _ = subscribed_queue(
        sns, sqs, topic, "filtered-q", RawMessageDelivery="true", FilterPolicy=json.dumps(policy)
    )

    def publish(message: str, **attrs: tuple[str, str]) -> None:
        sns.publish(
            TopicArn=topic,
            Message=message,
            MessageAttributes={k: {"DataType": t, "StringValue": v} for k, (t, v) in attrs.items()},
        )

    publish("red-15", color=("String", "red"), size=("Number", "15"))
    publish("blue-20", color=("String", "blue"), size=("Number", "20"))
    publish("green-15", color=("String", "green"), size=("Number", "15"))
    publish("red-25", color=("String", "red"), size=("Number", "25"))
    publish("red-no-size", color=("String", "red"))
    publish("nothing")
    assert sorted(bodies(sqs, url)) == ["blue-20", "red-15"]


def test_filter_policy_on_body(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="body-filtered")["TopicArn"]
    policy = {"order": {"status": ["paid"], "items": {"sku": [{"anything-but": "X1"}]}}}
    url, _ = subscribed_queue(
        sns,
        sqs,
        topic,
        "body-q",
        RawMessageDelivery="true",
        FilterPolicy=json.dumps(policy),
        FilterPolicyScope="MessageBody",
    )
    wanted = {"order": {"status": "paid", "items": [{"sku": "X1"}, {"sku": "A7"}]}}
    for message in (
        wanted,
        {"order": {"status": "open", "items": [{"sku": "A7"}]}},
        {"order": {"status": "paid", "items": [{"sku": "X1"}]}},
        "not json at all",
    ):
        text = message if isinstance(message, str) else json.dumps(message)
        sns.publish(TopicArn=topic, Message=text)
    assert [json.loads(b) for b in bodies(sqs, url)] == [wanted]


def test_fifo_topic_to_fifo_queue(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="jobs.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "jobs.fifo", RawMessageDelivery="true")
    first = sns.publish(
        TopicArn=topic, Message="one", MessageGroupId="g1", MessageDeduplicationId="d1"
    )
    second = sns.publish(
        TopicArn=topic, Message="two", MessageGroupId="g1", MessageDeduplicationId="d2"
    )
    repeat = sns.publish(
        TopicArn=topic, Message="one again", MessageGroupId="g1", MessageDeduplicationId="d1"
    )
    assert int(first["SequenceNumber"]) < int(second["SequenceNumber"])
    assert repeat["MessageId"] == first["MessageId"]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    )["Messages"]
    assert [m["Body"] for m in got] == ["one", "two"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g1"}
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic, Message="x", MessageDeduplicationId="d3")
    assert code_of(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic, Message="x", MessageGroupId="g1")
    assert "ContentBasedDeduplication" in str(exc.value)
    standard = sns.create_topic(Name="standard")["TopicArn"]
    with pytest.raises(ClientError) as exc:
        subscribed_queue(sns, sqs, standard, "other.fifo")
    assert code_of(exc) == "InvalidParameter"


def test_fifo_content_based_deduplication(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(
        Name="cbd.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "cbd.fifo")
    sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    got = bodies(sqs, url)
    assert len(got) == 1
    note = json.loads(got[0])
    assert note["Message"] == "same"
    assert note["SequenceNumber"]


def test_publish_batch(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="batched")["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "batched-q", RawMessageDelivery="true")
    answer = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "first"},
            {"Id": "b", "Message": ""},
            {"Id": "c", "Message": "third", "Subject": "s"},
            {
                "Id": "d",
                "Message": "bad attr",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}},
            },
        ],
    )
    assert [s["Id"] for s in answer["Successful"]] == ["a", "c"]
    assert all(s["MessageId"] for s in answer["Successful"])
    failed = {f["Id"]: f for f in answer["Failed"]}
    assert failed["b"]["Code"] == "InvalidParameter" and failed["b"]["SenderFault"] is True
    assert failed["d"]["Code"] == "ParameterValueInvalid"
    assert sorted(bodies(sqs, url)) == ["first", "third"]
    entries = [{"Id": f"e{i}", "Message": "m"} for i in range(11)]
    with pytest.raises(sns.exceptions.TooManyEntriesInBatchRequestException):
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}],
        )
    with pytest.raises(sns.exceptions.InvalidBatchEntryIdException):
        sns.publish_batch(
            TopicArn=topic, PublishBatchRequestEntries=[{"Id": "no!", "Message": "1"}]
        )
    with pytest.raises(sns.exceptions.EmptyBatchRequestException):
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[])


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"Message": ""}, "InvalidParameter"),
        ({"Message": "m", "Subject": ""}, "InvalidParameter"),
        ({"Message": "m", "Subject": "line\nbreak"}, "InvalidParameter"),
        ({"Message": "x" * 262_145}, "InvalidParameter"),
        ({"Message": "not json", "MessageStructure": "json"}, "InvalidParameter"),
        ({"Message": '{"sqs": "x"}', "MessageStructure": "json"}, "InvalidParameter"),
        ({"Message": "m", "MessageDeduplicationId": "d"}, "InvalidParameter"),
        (
            {
                "Message": "m",
                "MessageAttributes": {"a": {"DataType": "Colour", "StringValue": "x"}},
            },
            "ParameterValueInvalid",
        ),
        (
            {"Message": "m", "MessageAttributes": {"a": {"DataType": "String", "StringValue": ""}}},
            "ParameterValueInvalid",
        ),
        (
            {
                "Message": "m",
                "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "x"}},
            },
            "ParameterValueInvalid",
        ),
    ],
)
def test_bad_publishes(sns: Any, sqs: Any, kwargs: dict[str, Any], code: str) -> None:
    topic = sns.create_topic(Name="strict")["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "strict-q")
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic, **kwargs)
    assert code_of(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert bodies(sqs, url) == []


def test_publish_targets(sns: Any) -> None:
    topic = sns.create_topic(Name="targets")["TopicArn"]
    assert sns.publish(TargetArn=topic, Message="via TargetArn")["MessageId"]
    for kwargs in (
        {"PhoneNumber": "+15555550100"},
        {"TargetArn": "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1234"},
        {"TopicArn": topic, "PhoneNumber": "+15555550100"},
        {},
    ):
        with pytest.raises(ClientError) as exc:
            sns.publish(Message="m", **kwargs)
        assert code_of(exc) == "InvalidParameter"


def test_published_message_is_committed(sns: Any, sqs: Any, ctx: Any) -> None:
    """Publish answers after its commit: another engine on the same database (a fresh
    connection pool, nothing cached) finds the message in the queue."""
    topic = sns.create_topic(Name="durable")["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "durable-q", RawMessageDelivery="true")
    sns.publish(TopicArn=topic, Message="kept")
    other = make_context(ctx.settings.database_url)
    other.clock.advance(ctx.clock.now() - other.clock.now())
    try:
        caller = Caller(base="http://elsewhere", region="us-east-1")
        got = messages.receive_message(other, caller, {"QueueUrl": url})["Messages"]
        assert [m["Body"] for m in got] == ["kept"]
    finally:
        other.store.dispose()


def test_unsubscribed_and_deleted_queues(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="fanout")["TopicArn"]
    kept, _ = subscribed_queue(sns, sqs, topic, "kept-q", RawMessageDelivery="true")
    dropped, sub = subscribed_queue(sns, sqs, topic, "dropped-q", RawMessageDelivery="true")
    gone, _ = subscribed_queue(sns, sqs, topic, "gone-q", RawMessageDelivery="true")
    sns.unsubscribe(SubscriptionArn=sub)
    sqs.delete_queue(QueueUrl=gone)
    # A subscription whose queue is gone does not fail the publish (SNS drops it).
    sns.publish(TopicArn=topic, Message="fan")
    assert bodies(sqs, kept) == ["fan"]
    assert bodies(sqs, dropped) == []


def test_long_poll_woken_by_publish(sns: Any, sqs: Any, endpoint: str) -> None:
    topic = sns.create_topic(Name="poll")["TopicArn"]
    url, _ = subscribed_queue(sns, sqs, topic, "poll-q", RawMessageDelivery="true")
    got: list[Any] = []

    def waiter() -> None:
        msgs = sqs_client(endpoint).receive_message(QueueUrl=url, WaitTimeSeconds=20)
        got.append((msgs.get("Messages", []), time.monotonic()))

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    published = time.monotonic()
    sns.publish(TopicArn=topic, Message="wake up")
    thread.join(10)
    [(msgs, answered)] = got
    assert [m["Body"] for m in msgs] == ["wake up"]
    # Woken by the publish, not by the receiver's once-a-second re-check.
    assert answered - published < 0.9


def test_undeliverable_messages_go_to_the_redrive_dead_letter_queue(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="redriven")["TopicArn"]
    dlq_url = sqs.create_queue(QueueName="sns-dlq")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:sns-dlq"
    url, _ = subscribed_queue(
        sns,
        sqs,
        topic,
        "fragile-q",
        RawMessageDelivery="true",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=topic, Message="lost queue")
    assert bodies(sqs, dlq_url) == ["lost queue"]


def test_routed_by_the_signature_scope_without_a_version(sns: Any, endpoint: str) -> None:
    """A query request without Version goes to the service its SigV4 scope names."""
    topic = sns.create_topic(Name="scoped")["TopicArn"]
    scope = "Credential=testing/20260101/us-east-1/sns/aws4_request, SignedHeaders=host"
    answer = httpx.post(
        endpoint,
        data={"Action": "GetTopicAttributes", "TopicArn": topic},
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "authorization": f"AWS4-HMAC-SHA256 {scope}",
        },
    )
    assert answer.status_code == 200
    assert f"<key>TopicArn</key><value>{topic}</value>" in answer.text
