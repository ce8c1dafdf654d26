"""boto3 (query protocol) against the SNS adapter, on SQLite and PostgreSQL: topics, their
attributes and tags, subscriptions, and the AWS error codes bad requests get."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def queue_arn(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


# --- topics --------------------------------------------------------------------------------------
def test_create_is_idempotent_list_and_delete(sns: Any) -> None:
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"
    assert sns.create_topic(Name="orders")["TopicArn"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Orders")
    assert sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"})["TopicArn"] == arn
    with pytest.raises(sns.exceptions.InvalidParameterException) as exc:
        sns.create_topic(Name="orders", Attributes={"DisplayName": "Other"})
    assert "already exists with different attributes" in str(exc.value)
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    sns.delete_topic(TopicArn=arn)
    assert sns.list_topics()["Topics"] == []
    sns.delete_topic(TopicArn=arn)  # deleting a topic that is gone is no error


def test_list_topics_pages_with_next_token(sns: Any) -> None:
    arns = {sns.create_topic(Name=f"t-{i:03d}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == arns
    paged = sns.get_paginator("list_topics").paginate()
    assert sum(len(page["Topics"]) for page in paged) == 105


@pytest.mark.parametrize("name", ["", "has space", "a" * 257, "dot.ted", "x.fifo"])
def test_bad_topic_names(sns: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=name)
    assert code_of(exc) == "InvalidParameter"


def test_fifo_topics(sns: Any) -> None:
    arn = sns.create_topic(
        Name="jobs.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    values = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert values["FifoTopic"] == "true"
    assert values["ContentBasedDeduplication"] == "true"
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="jobs", Attributes={"FifoTopic": "true"})
    assert code_of(exc) == "InvalidParameter"
    assert "must end with .fifo" in str(exc.value)
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="MessageGroup"
    )
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["FifoThroughputScope"] == (
        "MessageGroup"
    )
    plain = sns.create_topic(Name="plain")["TopicArn"]
    with pytest.raises(ClientError) as exc:
        sns.set_topic_attributes(
            TopicArn=plain, AttributeName="ContentBasedDeduplication", AttributeValue="true"
        )
    assert code_of(exc) == "InvalidParameter"


def test_topic_attributes(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="news")["TopicArn"]
    values = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert values["TopicArn"] == arn
    assert values["Owner"] == ACCOUNT
    assert values["SubscriptionsConfirmed"] == "0"
    assert values["SubscriptionsPending"] == "0"
    assert values["SubscriptionsDeleted"] == "0"
    assert json.loads(values["Policy"])["Statement"][0]["Resource"] == arn
    assert "FifoTopic" not in values
    policy = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=policy)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="News")
    values = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert values["DisplayName"] == "News"
    assert json.loads(values["EffectiveDeliveryPolicy"]) == json.loads(policy)
    _, q = queue_arn(sqs, "news-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q)
    sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="https://example.com/hook")
    values = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (values["SubscriptionsConfirmed"], values["SubscriptionsPending"]) == ("1", "1")
    for name, value in (("Policy", "{not json"), ("Nonsense", "x"), ("FifoTopic", "true")):
        with pytest.raises(ClientError) as exc:
            sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
        assert code_of(exc) == "InvalidParameter"


def test_missing_topics_and_bad_arns(sns: Any) -> None:
    gone = f"arn:aws:sns:us-east-1:{ACCOUNT}:gone"
    for call in (
        lambda: sns.get_topic_attributes(TopicArn=gone),
        lambda: sns.publish(TopicArn=gone, Message="x"),
        lambda: sns.subscribe(TopicArn=gone, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:1:q"),
        lambda: sns.list_subscriptions_by_topic(TopicArn=gone),
    ):
        with pytest.raises(sns.exceptions.NotFoundException) as exc:
            call()
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert exc.value.response["Error"]["Message"] == "Topic does not exist"
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert code_of(exc) == "InvalidParameter"
    other = "arn:aws:sns:us-east-1:210987654321:theirs"
    with pytest.raises(sns.exceptions.AuthorizationErrorException):
        sns.publish(TopicArn=other, Message="x")


def test_tags(sns: Any) -> None:
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "a", "env": "prod"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="tagged", Tags=[{"Key": "env", "Value": "dev"}])
    assert code_of(exc) == "InvalidParameter"
    with pytest.raises(sns.exceptions.TagLimitExceededException):
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(sns.exceptions.ResourceNotFoundException):
        sns.list_tags_for_resource(ResourceArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:nope")


# --- subscriptions -------------------------------------------------------------------------------
def test_subscriptions(sns: Any, sqs: Any) -> None:
    arn = sns.create_topic(Name="events")["TopicArn"]
    _, q = queue_arn(sqs, "events-q")
    sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    again = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"}
    )
    assert again["SubscriptionArn"] == sub
    with pytest.raises(ClientError) as exc:
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "false"}
        )
    assert code_of(exc) == "InvalidParameter"
    pending = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    assert pending["SubscriptionArn"] == "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["SubscriptionArn"]) for s in listed] == [
        ("sqs", sub),
        ("email", "PendingConfirmation"),
    ]
    assert len(sns.list_subscriptions()["Subscriptions"]) == 2
    values = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert values["RawMessageDelivery"] == "true"
    assert values["TopicArn"] == arn
    assert values["Endpoint"] == q
    assert values["PendingConfirmation"] == "false"
    policy = json.dumps({"color": ["red"]})
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy
    )
    values = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(values["FilterPolicy"]) == {"color": ["red"]}
    assert values["FilterPolicyScope"] == "MessageAttributes"
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # idempotent, as SNS's
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=sub)
    sns.delete_topic(TopicArn=arn)
    assert sns.list_subscriptions()["Subscriptions"] == []


@pytest.mark.parametrize(
    ("protocol", "target", "attributes"),
    [
        ("carrier-pigeon", "x", {}),
        ("sqs", "not-an-arn", {}),
        ("sms", "+15555550100", {}),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:f", {}),
        ("http", "ftp://example.com", {}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"RawMessageDelivery": "maybe"}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"FilterPolicy": "{bad json"}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"FilterPolicy": '{"a": "red"}'}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"FilterPolicy": '{"a": {"b": ["x"]}}'}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"FilterPolicyScope": "Headers"}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q", {"Unknown": "x"}),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:q.fifo", {}),
    ],
)
def test_bad_subscriptions(
    sns: Any, protocol: str, target: str, attributes: dict[str, str]
) -> None:
    arn = sns.create_topic(Name="strict")["TopicArn"]
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=target, Attributes=attributes)
    assert code_of(exc) == "InvalidParameter"
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_unknown_and_unserved_actions_are_query_errors(endpoint: str) -> None:
    for action in ("Frobnicate", "CreatePlatformApplication"):
        answer = httpx.post(
            endpoint,
            data={"Action": action, "Version": "2010-03-31"},
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 400
        assert "<Code>InvalidAction</Code>" in answer.text
