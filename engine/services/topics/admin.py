"""Topics themselves: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes and the
tagging operations (TagResource, UntagResource, ListTagsForResource)."""

from __future__ import annotations

import json
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues.common import run
from engine.services.topics.common import (
    FIFO_TOPIC_NAME,
    TOPIC_NAME,
    Caller,
    attribute_map,
    check_account,
    decode_token,
    encode_token,
    load_topic,
    parse_topic_arn,
    stored,
    string,
    topic_arn,
)
from engine.services.topics.errors import (
    ResourceNotFound,
    SnsError,
    TagLimitExceeded,
    invalid,
)

PAGE_SIZE = 100  # ListTopics answers 100 topics a page
MAX_TAGS = 50
# The attributes CreateTopic and SetTopicAttributes accept (FifoTopic only at creation).
SETTABLE = frozenset(
    {
        "ArchivePolicy",
        "ContentBasedDeduplication",
        "DeliveryPolicy",
        "DisplayName",
        "FifoThroughputScope",
        "KmsMasterKeyId",
        "Policy",
        "SignatureVersion",
        "TracingConfig",
    }
    | {
        f"{p}{k}"
        for p in ("HTTP", "Firehose", "Lambda", "SQS", "Application")
        for k in (
            "SuccessFeedbackRoleArn",
            "SuccessFeedbackSampleRate",
            "FailureFeedbackRoleArn",
        )
    }
)
_JSON_ATTRIBUTES = ("Policy", "DeliveryPolicy", "ArchivePolicy")
_DEFAULT_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}


def default_policy(arn: str, account: str) -> str:
    """The access policy SNS gives a new topic: its owner may do everything."""
    actions = [
        "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes",
        "SNS:AddPermission",
        "SNS:RemovePermission",
        "SNS:DeleteTopic",
        "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic",
        "SNS:Publish",
    ]
    statement = {
        "Sid": "__default_statement_ID",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": actions,
        "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
    }
    return json.dumps(
        {"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [statement]},
        separators=(",", ":"),
    )


def _check_attribute(name: str, value: str, fifo: bool) -> None:
    if name not in SETTABLE:
        raise invalid("AttributeName")
    if name in _JSON_ATTRIBUTES and value:
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise invalid(name, "failed to parse JSON") from exc
        if not isinstance(parsed, dict):
            raise invalid(name, "must be a JSON object")
    if name == "ContentBasedDeduplication":
        if value not in ("true", "false"):
            raise invalid(name, "Invalid value [" + value + "]. Must be true or false.")
        if not fifo:
            raise invalid(name, "Content-based deduplication can only be set for FIFO topics")
    if name == "DisplayName" and len(value) > 100:
        raise invalid("DisplayName", "must be at most 100 characters")
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("SignatureVersion", "must be 1 or 2")
    if name == "FifoThroughputScope":
        if not fifo:
            raise invalid(name, "FifoThroughputScope can only be set for FIFO topics")
        if value not in ("Topic", "MessageGroup"):
            raise invalid(name, "must be Topic or MessageGroup")


def _check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise invalid("Tags", "must be a list of Key and Value")
    out: dict[str, str] = {}
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid("Tags", "Tag keys must be between 1 and 128 characters")
        if not isinstance(value, str) or len(value) > 256:
            raise invalid("Tags", "Tag values must be at most 256 characters")
        out[key] = value
    if len(out) > MAX_TAGS:
        raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
    return out


def create_topic(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """CreateTopic: idempotent while the attributes and tags asked for are the topic's."""
    name = string(body, "Name", required=True)
    assert name is not None
    given = attribute_map(body)
    fifo = given.pop("FifoTopic", "false")
    if fifo not in ("true", "false"):
        raise invalid("FifoTopic", "Invalid value [" + fifo + "]. Must be true or false.")
    if fifo == "true" and not FIFO_TOPIC_NAME.match(name):
        raise invalid(
            "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
            "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between "
            "1 and 256 characters long."
        )
    if fifo == "false" and not TOPIC_NAME.match(name):
        raise invalid("Topic Name")
    for key, value in given.items():
        _check_attribute(key, value, fifo == "true")
    tags = _check_tags(body.get("Tags"))
    arn = topic_arn(caller.region, ctx.account, name)
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        existing = tx.topics.get(arn)
        if existing is None:
            tx.topics.insert(
                {
                    "account": ctx.account,
                    "name": name,
                    "arn": arn,
                    "fifo": 1 if fifo == "true" else 0,
                    "attributes": json.dumps(given),
                    "tags": json.dumps(tags),
                    "sequence": 0,
                    "created_at": now,
                }
            )
            return {"TopicArn": arn}
        values = _attributes(tx, existing)
        if any(values.get(k, "") != v for k, v in given.items()):
            raise invalid("Attributes", "Topic already exists with different attributes")
        if tags and tags != stored(existing, "tags"):
            raise invalid("Tags", "Topic already exists with different tags")
        return {"TopicArn": arn}

    return run(ctx, work)  # type: ignore[no-any-return]


def delete_topic(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteTopic, with its subscriptions; deleting a topic that is not there succeeds."""
    arn = body.get("TopicArn")
    _region, account, _name = parse_topic_arn(arn)
    check_account(ctx, account, str(arn), "DeleteTopic")

    def work(tx: Any) -> dict[str, Any]:
        topic = tx.topics.get(arn)
        if topic is not None:
            tx.topics.delete(topic)
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def list_topics(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """ListTopics: this region's topics, 100 a page, with a NextToken while more remain."""
    after = decode_token(body.get("NextToken"))
    prefix = topic_arn(caller.region, ctx.account, "")
    rows = ctx.store.read(lambda tx: tx.topics.page(prefix, after, PAGE_SIZE + 1))
    result: dict[str, Any] = {"Topics": [{"TopicArn": r["arn"]} for r in rows[:PAGE_SIZE]]}
    if len(rows) > PAGE_SIZE:
        result["NextToken"] = encode_token(rows[PAGE_SIZE - 1]["arn"])
    return result


def _attributes(tx: Any, topic: dict[str, Any]) -> dict[str, str]:
    """Every attribute GetTopicAttributes reports for a topic."""
    counts = tx.topics.subscription_counts(topic["arn"])
    values = {
        "Policy": default_policy(topic["arn"], topic["account"]),
        "Owner": topic["account"],
        "SubscriptionsPending": str(counts.get("pending", 0)),
        "TopicArn": topic["arn"],
        "EffectiveDeliveryPolicy": json.dumps(_DEFAULT_DELIVERY_POLICY, separators=(",", ":")),
        "SubscriptionsConfirmed": str(counts.get("confirmed", 0)),
        "DisplayName": "",
        "SubscriptionsDeleted": "0",
    }
    if topic["fifo"]:
        values.update({"FifoTopic": "true", "ContentBasedDeduplication": "false"})
    values.update(stored(topic))
    if "DeliveryPolicy" in values:
        values["EffectiveDeliveryPolicy"] = values["DeliveryPolicy"]
    return values


def get_topic_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """GetTopicAttributes."""

    def work(tx: Any) -> dict[str, Any]:
        topic = load_topic(ctx, tx, body.get("TopicArn"), "GetTopicAttributes")
        return {"Attributes": _attributes(tx, topic)}

    return ctx.store.read(work)  # type: ignore[no-any-return]


def set_topic_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """SetTopicAttributes: one attribute a call (an empty value removes it)."""
    name = string(body, "AttributeName", required=True)
    value = string(body, "AttributeValue") or ""
    assert name is not None

    def work(tx: Any) -> dict[str, Any]:
        topic = load_topic(ctx, tx, body.get("TopicArn"), "SetTopicAttributes", lock=True)
        _check_attribute(name, value, bool(topic["fifo"]))
        values = stored(topic)
        if value == "" and name != "DisplayName":
            values.pop(name, None)
        else:
            values[name] = value
        tx.topics.update(topic["id"], attributes=json.dumps(values))
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


# --- tags ----------------------------------------------------------------------------------------
def _tagged(ctx: ServiceContext, tx: Any, arn: Any) -> dict[str, Any]:
    try:
        _region, account, _name = parse_topic_arn(arn, "ResourceArn")
    except SnsError as exc:
        raise ResourceNotFound("Resource does not exist") from exc
    topic = tx.topics.get(arn) if account == ctx.account else None
    if topic is None:
        raise ResourceNotFound("Resource does not exist")
    return dict(topic)


def tag_resource(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or replace tags (at most 50 on a topic)."""
    given = _check_tags(body.get("Tags"))

    def work(tx: Any) -> dict[str, Any]:
        topic = _tagged(ctx, tx, body.get("ResourceArn"))
        tags = {**stored(topic, "tags"), **given}
        if len(tags) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        tx.topics.update(topic["id"], tags=json.dumps(tags))
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def untag_resource(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tags by key (absent keys are ignored)."""
    keys = body.get("TagKeys") or []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise invalid("TagKeys", "must be a list of strings")

    def work(tx: Any) -> dict[str, Any]:
        topic = _tagged(ctx, tx, body.get("ResourceArn"))
        tags = {k: v for k, v in stored(topic, "tags").items() if k not in keys}
        tx.topics.update(topic["id"], tags=json.dumps(tags))
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def list_tags_for_resource(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ListTagsForResource."""

    def work(tx: Any) -> dict[str, Any]:
        topic = _tagged(ctx, tx, body.get("ResourceArn"))
        tags = stored(topic, "tags")
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    return ctx.store.read(work)  # type: ignore[no-any-return]
