"""AddPermission and RemovePermission (boto3's JSON protocol and the query protocol), on
SQLite and PostgreSQL: statements of the queue's Policy attribute, labelled and checked as
SQS does."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.integration.test_sqs import code_of


def _policy(sqs: Any, url: str) -> dict[str, Any] | None:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    text = attributes.get("Attributes", {}).get("Policy")
    return json.loads(text) if text else None


def test_permissions_become_policy_statements(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.add_permission(
        QueueUrl=url, Label="senders", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
    )
    sqs.add_permission(
        QueueUrl=url,
        Label="readers",
        AWSAccountIds=["111122223333", "444455556666"],
        Actions=["ReceiveMessage", "DeleteMessage"],
    )
    policy = _policy(sqs, url)
    assert policy is not None
    assert policy["Version"] == "2012-10-17"
    assert policy["Statement"] == [
        {
            "Sid": "senders",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "SQS:SendMessage",
            "Resource": arn,
        },
        {
            "Sid": "readers",
            "Effect": "Allow",
            "Principal": {
                "AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
            },
            "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
            "Resource": arn,
        },
    ]
    sqs.remove_permission(QueueUrl=url, Label="senders")
    remaining = _policy(sqs, url)
    assert remaining is not None
    assert [s["Sid"] for s in remaining["Statement"]] == ["readers"]
    sqs.remove_permission(QueueUrl=url, Label="readers")
    assert _policy(sqs, url) is None


def test_bad_permissions_are_refused_and_change_nothing(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111122223333"], Actions=["*"])
    before = _policy(sqs, url)
    refused: list[tuple[dict[str, Any], str]] = [
        ({"Label": "one", "AWSAccountIds": ["111122223333"], "Actions": ["*"]}, "Already exists"),
        ({"Label": "two", "AWSAccountIds": ["111122223333"], "Actions": ["DeleteQueue"]}, "owner"),
        ({"Label": "two", "AWSAccountIds": ["111122223333"], "Actions": ["Fly"]}, "valid actions"),
        ({"Label": "bad label!", "AWSAccountIds": ["111122223333"], "Actions": ["*"]}, "Label"),
        ({"Label": "é", "AWSAccountIds": ["111122223333"], "Actions": ["*"]}, "Label"),
        ({"Label": "two", "AWSAccountIds": ["x y"], "Actions": ["*"]}, "12 digits"),
    ]
    for request, reason in refused:
        with pytest.raises(ClientError) as err:
            sqs.add_permission(QueueUrl=url, **request)
        assert code_of(err) == "InvalidParameterValue", request
        assert reason in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        sqs.remove_permission(QueueUrl=url, Label="never-added")
    assert code_of(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        sqs.add_permission(
            QueueUrl=f"{url}-missing", Label="x", AWSAccountIds=["111122223333"], Actions=["*"]
        )
    assert code_of(err) == "AWS.SimpleQueueService.NonExistentQueue"  # boto3: query-compatible
    assert _policy(sqs, url) == before


def test_add_permission_over_the_query_protocol(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName="xmlshared")["QueueUrl"]
    response = httpx.post(
        endpoint,
        data={
            "Action": "AddPermission",
            "Version": "2012-11-05",
            "QueueUrl": url,
            "Label": "partners",
            "AWSAccountId.1": "111122223333",
            "ActionName.1": "SendMessage",
            "ActionName.2": "GetQueueUrl",
        },
    )
    assert response.status_code == 200, response.text
    policy = _policy(sqs, url)
    assert policy is not None
    assert policy["Statement"][0]["Action"] == ["SQS:SendMessage", "SQS:GetQueueUrl"]


def test_permissions_extend_a_policy_set_by_hand_and_refuse_too_many_actions(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="handmade")["QueueUrl"]
    mine = {"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "SQS:SendMessage"}
    # IAM allows a single statement as an object instead of a list.
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": mine})},
    )
    sqs.add_permission(QueueUrl=url, Label="added", AWSAccountIds=["111122223333"], Actions=["*"])
    policy = _policy(sqs, url)
    assert policy is not None
    assert [s["Sid"] for s in policy["Statement"]] == ["Mine", "added"]
    with pytest.raises(ClientError) as err:
        sqs.add_permission(
            QueueUrl=url,
            Label="many",
            AWSAccountIds=["111122223333"],
            Actions=["SendMessage"] * 8,
        )
    assert code_of(err) == "OverLimit"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [1]})})
    with pytest.raises(ClientError) as err:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=["*"])
    assert code_of(err) == "InvalidParameterValue"
    assert _policy(sqs, url) == {"Statement": [1]}  # refused, not replaced
