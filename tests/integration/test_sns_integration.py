"""Task states that call SNS: ``arn:aws:states:::sns:publish`` (and ``.waitForTaskToken``) and
``arn:aws:states:::aws-sdk:sns:<operation>``, with boto3 as the client of every service, on
SQLite and PostgreSQL. The publish and its delivery to subscribed queues commit with the
decision that records it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tests.integration.test_sqs_integration import run, task

PUBLISH = "arn:aws:states:::sns:publish"
SDK = "arn:aws:states:::aws-sdk:sns"


def raw_subscriber(sns: Any, sqs: Any, topic: str, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return str(url)


def test_publish_output_and_delivery(sfn: Any, sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="orders")["TopicArn"]
    queue = raw_subscriber(sns, sqs, topic, "orders-q")
    done = run(
        sfn,
        {
            "Publish": task(
                PUBLISH,
                {
                    "TopicArn": topic,
                    "Message": {"id.$": "$.id"},
                    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "new"}},
                },
            )
        },
        {"id": 7},
    )
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert set(output) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Type"] == "text/xml"
    assert headers["Content-Length"] == "294"  # SNS's XML answer, as Step Functions records it
    got = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert got["Body"] == '{"id":7}'
    assert got["MessageAttributes"]["kind"]["StringValue"] == "new"


def test_publish_errors(sfn: Any, sns: Any) -> None:
    missing = run(
        sfn,
        {
            "Publish": task(
                PUBLISH,
                {"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope", "Message": "m"},
            )
        },
    )
    assert missing["status"] == "FAILED"
    assert missing["error"] == "SNS.NotFoundException"
    assert missing["cause"].startswith(
        "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; "
    )
    topic = sns.create_topic(Name="strict")["TopicArn"]
    empty = run(sfn, {"Publish": task(PUBLISH, {"TopicArn": topic, "Message": ""})})
    assert empty["error"] == "SNS.InvalidParameterException"
    assert "Status Code: 400; Error Code: InvalidParameter;" in empty["cause"]


def test_wait_for_task_token_through_a_subscribed_queue(
    sfn: Any, sns: Any, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receive long-polls before the publish; its re-check of the database is pushed past
    its wait, so the message reaches it only if the decider's commit woke it."""
    from api.aws import sqs as sqs_wire

    monkeypatch.setattr(sqs_wire, "CROSS_NODE_RECHECK_SECONDS", 60.0)
    topic = sns.create_topic(Name="work")["TopicArn"]
    queue = raw_subscriber(sns, sqs, topic, "work-q")
    got: dict[str, Any] = {}

    def consume_and_answer() -> None:
        started = time.monotonic()
        got.update(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10))
        got["waited"] = time.monotonic() - started
        token = json.loads(got["Messages"][0]["Body"])["TaskToken"]
        sfn.send_task_success(taskToken=token, output='{"ok": true}')

    consumer = threading.Thread(target=consume_and_answer)
    consumer.start()
    time.sleep(0.3)  # the receive is long-polling before the message is published
    done = run(
        sfn,
        {
            "Wait": task(
                f"{PUBLISH}.waitForTaskToken",
                {"TopicArn": topic, "Message": {"TaskToken.$": "$$.Task.Token"}},
            )
        },
    )
    consumer.join(10)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"ok": True}
    assert got["waited"] < 10  # the message came during the wait, not after it


def test_aws_sdk_operations(sfn: Any, sns: Any) -> None:
    done = run(sfn, {"Create": task(f"{SDK}:createTopic", {"Name": "from-a-machine"})})
    assert done["status"] == "SUCCEEDED", done
    arn = json.loads(done["output"])["TopicArn"]
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    missing = run(
        sfn,
        {
            "Get": task(
                f"{SDK}:getTopicAttributes",
                {"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope"},
            )
        },
    )
    assert missing["error"] == "Sns.NotFoundException"
    assert missing["cause"].startswith("Topic does not exist (Service: Sns, Status Code: 404, ")
    unknown = run(sfn, {"X": task(f"{SDK}:frobnicate", {})})
    assert unknown["status"] == "FAILED"
