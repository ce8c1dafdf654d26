"""Task states that call SQS (issue #5): ``arn:aws:states:::sqs:sendMessage`` (and its
``.waitForTaskToken`` form) and ``arn:aws:states:::aws-sdk:sqs:<operation>``, with boto3 as the
client of both services, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/test"


def run(sfn: Any, states: dict[str, Any], value: Any = None, timeout: float = 10) -> dict:
    """Create a machine of ``states`` (the first is StartAt), run it, return DescribeExecution."""
    definition = {"StartAt": next(iter(states)), "States": states}
    name = f"m{time.monotonic_ns()}"
    sm = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    ex = sfn.start_execution(stateMachineArn=sm["stateMachineArn"], input=json.dumps(value or {}))[
        "executionArn"
    ]
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=ex)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)
    return dict(described)


def task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **extra}


SEND = "arn:aws:states:::sqs:sendMessage"


def test_send_message_output_and_json_body(sfn: Any, sqs: Any) -> None:
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    body = {"id.$": "$.id", "items": [1, 2]}
    done = run(
        sfn,
        {
            "Send": task(
                SEND,
                {
                    "QueueUrl": queue,
                    "MessageBody": body,
                    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "new"}},
                },
            )
        },
        {"id": 7},
    )
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    sent = '{"id":7,"items":[1,2]}'
    assert output["MD5OfMessageBody"] == hashlib.md5(sent.encode()).hexdigest()
    assert set(output) == {
        "MD5OfMessageBody",
        "MD5OfMessageAttributes",
        "MessageId",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    }
    meta = output["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    assert meta["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert meta["HttpHeaders"]["Content-Length"] == "166"
    assert output["SdkResponseMetadata"]["RequestId"] == meta["HttpHeaders"]["x-amzn-RequestId"]
    got = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert got["Body"] == sent and got["MessageId"] == output["MessageId"]
    assert got["MessageAttributes"]["kind"]["StringValue"] == "new"


def test_send_message_errors(sfn: Any, sqs: Any) -> None:
    queue = sqs.create_queue(QueueName="errors")["QueueUrl"]
    missing = run(sfn, {"Send": task(SEND, {"QueueUrl": queue, "MessageBody": None})})
    assert missing["status"] == "FAILED"
    assert missing["error"] == "SQS.AmazonSQSException"
    assert missing["cause"].startswith("The request must contain the parameter MessageBody.")
    gone = run(
        sfn,
        {
            "Send": task(
                SEND,
                {
                    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nope",
                    "MessageBody": "x",
                },
            )
        },
    )
    assert gone["error"] == "SQS.QueueDoesNotExistException"
    assert "Error Code: AWS.SimpleQueueService.NonExistentQueue" in gone["cause"]
    host = run(sfn, {"Send": task(SEND, {"QueueUrl": "http://no-such-host", "MessageBody": "x"})})
    assert host["error"] == "SQS.SdkClientException"
    assert (
        host["cause"] == "Unable to execute HTTP request: no-such-host: Name or service not known"
    )


def test_wait_for_task_token_wakes_a_long_polling_consumer(sfn: Any, sqs: Any) -> None:
    queue = sqs.create_queue(QueueName="work")["QueueUrl"]
    got: dict[str, Any] = {}

    def consume() -> None:
        started = time.monotonic()
        got.update(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10))
        got["waited"] = time.monotonic() - started

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.3)  # the receive is long-polling before the message is sent

    def answer() -> None:
        consumer.join(10)
        token = json.loads(got["Messages"][0]["Body"])["TaskToken"]
        sfn.send_task_success(taskToken=token, output='{"ok": true}')

    answering = threading.Thread(target=answer)
    answering.start()
    done = run(
        sfn,
        {
            "Wait": task(
                f"{SEND}.waitForTaskToken",
                {"QueueUrl": queue, "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
            )
        },
    )
    answering.join(10)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"ok": True}
    # Woken by the decider's commit, not by the one-second cross-node re-check.
    assert got["waited"] < 0.9 + 0.3


SDK = "arn:aws:states:::aws-sdk:sqs"


def test_aws_sdk_operations(sfn: Any, sqs: Any) -> None:
    done = run(
        sfn,
        {
            "Create": {
                "Type": "Task",
                "Resource": f"{SDK}:createQueue",
                "Parameters": {"QueueName": "sdk-q", "Attributes": {"VisibilityTimeout": "45"}},
                "ResultPath": "$.created",
                "Next": "Send",
            },
            "Send": {
                "Type": "Task",
                "Resource": f"{SDK}:sendMessage",
                "Parameters": {"QueueUrl.$": "$.created.QueueUrl", "MessageBody": "hello"},
                "ResultPath": "$.sent",
                "Next": "Receive",
            },
            "Receive": {
                "Type": "Task",
                "Resource": f"{SDK}:receiveMessage",
                "Parameters": {"QueueUrl.$": "$.created.QueueUrl", "WaitTimeSeconds": 5},
                "ResultPath": "$.received",
                "Next": "Delete",
            },
            "Delete": {
                "Type": "Task",
                "Resource": f"{SDK}:deleteMessage",
                "Parameters": {
                    "QueueUrl.$": "$.created.QueueUrl",
                    "ReceiptHandle.$": "$.received.Messages[0].ReceiptHandle",
                },
                "ResultPath": "$.deleted",
                "Next": "Attributes",
            },
            "Attributes": {
                "Type": "Task",
                "Resource": f"{SDK}:getQueueAttributes",
                "Parameters": {"QueueUrl.$": "$.created.QueueUrl", "AttributeNames": ["All"]},
                "ResultSelector": {
                    "visibility.$": "$.Attributes.VisibilityTimeout",
                    "count.$": "$.Attributes.ApproximateNumberOfMessages",
                },
                "ResultPath": "$.attributes",
                "Next": "List",
            },
            "List": {
                "Type": "Task",
                "Resource": f"{SDK}:listQueues",
                "Parameters": {"QueueNamePrefix": "sdk"},
                "ResultPath": "$.listed",
                "End": True,
            },
        },
    )
    assert done["status"] == "SUCCEEDED", done
    out = json.loads(done["output"])
    assert out["created"]["QueueUrl"].endswith("/123456789012/sdk-q")
    assert set(out["sent"]) == {"MD5OfMessageBody", "MessageId"}
    assert [m["Body"] for m in out["received"]["Messages"]] == ["hello"]
    assert out["deleted"] == {}
    assert out["attributes"] == {"visibility": "45", "count": "0"}
    assert out["listed"] == {"QueueUrls": [out["created"]["QueueUrl"]]}
    # The queue is the same one the SQS API serves.
    assert sqs.get_queue_url(QueueName="sdk-q")["QueueUrl"].endswith("/123456789012/sdk-q")


def test_aws_sdk_errors_are_caught_by_name(sfn: Any) -> None:
    done = run(
        sfn,
        {
            "Purge": {
                "Type": "Task",
                "Resource": f"{SDK}:purgeQueue",
                "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/x"},
                "Catch": [{"ErrorEquals": ["Sqs.QueueDoesNotExistException"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    )
    assert done["status"] == "SUCCEEDED", done
    caught = json.loads(done["output"])
    assert caught["Error"] == "Sqs.QueueDoesNotExistException"
    assert caught["Cause"].startswith("The specified queue does not exist. (Service: Sqs, Status")
    invalid = run(
        sfn,
        {"Make": task(f"{SDK}:createQueue", {"QueueName": "bad name!"})},
    )
    assert invalid["status"] == "FAILED" and invalid["error"] == "Sqs.SqsException"
    unknown = run(sfn, {"Nope": task(f"{SDK}:frobnicate", {})})
    assert unknown["error"] == "States.Runtime"
