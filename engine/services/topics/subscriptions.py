"""Subscriptions: Subscribe, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
Get/SetSubscriptionAttributes and ConfirmSubscription.

SQS subscriptions are confirmed at once (the queue is ours). HTTP, HTTPS and email
subscriptions are accepted and stay ``PendingConfirmation``: this server does not deliver to
them, so nobody can confirm them. SMS, mobile push (application), Lambda and Firehose are
refused with InvalidParameter.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from engine.services.context import ServiceContext
from engine.services.topics import filter_policy
from engine.services.topics.common import (
    Caller,
    attribute_map,
    decode_token,
    encode_token,
    load_subscription,
    load_topic,
    parse_subscription_arn,
    stored,
    string,
)
from engine.services.topics.errors import invalid

PAGE_SIZE = 100
PROTOCOLS = frozenset(
    {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
)
# Accepted, never delivered here (so they stay PendingConfirmation).
PENDING_PROTOCOLS = frozenset({"http", "https", "email", "email-json"})
SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "ReplayPolicy",
        "SubscriptionRoleArn",
    }
)
SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(\.fifo)?)$")
PENDING = "PendingConfirmation"


def queue_url_of(endpoint: str) -> str:
    """The queue URL an SQS subscription's endpoint (a queue ARN) stands for."""
    match = SQS_ARN.match(endpoint)
    assert match is not None
    region, account, name = match.group(1), match.group(2), match.group(3)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def check_attributes(values: dict[str, str]) -> dict[str, str]:
    """Validate subscription attributes together (a FilterPolicy against its scope); returns
    them normalised."""
    out = dict(values)
    for name, value in values.items():
        if name not in SETTABLE:
            raise invalid("AttributeName")
        if name == "RawMessageDelivery":
            if value.lower() not in ("true", "false"):
                raise invalid("Attributes", "RawMessageDelivery: Invalid value [" + value + "]")
            out[name] = value.lower()
        elif name == "FilterPolicyScope" and value not in filter_policy.SCOPES:
            raise invalid(
                "Attributes",
                "FilterPolicyScope: Invalid filter policy scope, please specify a valid "
                "filter policy scope",
            )
        elif name in ("DeliveryPolicy", "RedrivePolicy", "ReplayPolicy") and value:
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise invalid("Attributes", f"{name}: failed to parse JSON") from exc
            if name == "RedrivePolicy" and not (
                isinstance(parsed, dict)
                and SQS_ARN.match(str(parsed.get("deadLetterTargetArn", "")))
            ):
                raise invalid("RedrivePolicy", "deadLetterTargetArn: must be an SQS queue ARN")
    scope = out.get("FilterPolicyScope", filter_policy.ATTRIBUTES)
    filter_policy.parse(out.get("FilterPolicy", ""), scope)
    return out


def _present(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription as the List operations show it."""
    return {
        "SubscriptionArn": row["arn"] if row["status"] == "confirmed" else PENDING,
        "Owner": row["account"],
        "Protocol": row["protocol"],
        "Endpoint": row["endpoint"],
        "TopicArn": row["topic_arn"],
    }


def _check_endpoint(protocol: str, endpoint: str, fifo: bool) -> None:
    if protocol == "sqs":
        match = SQS_ARN.match(endpoint)
        if match is None:
            raise invalid("SQS endpoint ARN")
        if match.group(4) and not fifo:
            raise invalid(
                "Invalid parameter: Endpoint",
                "FIFO SQS Queues can not be subscribed to standard SNS topics",
            )
        return
    if protocol not in PENDING_PROTOCOLS:
        raise invalid(
            "Protocol", f"{protocol} subscriptions are not supported by this server (Stepwell)"
        )
    if fifo:
        raise invalid("Invalid parameter: Endpoint", f"Invalid protocol {protocol} for FIFO topic")
    if protocol in ("http", "https") and not endpoint.startswith(f"{protocol}://"):
        raise invalid("Endpoint", f"{protocol.upper()} endpoint must begin with {protocol}://")
    if protocol.startswith("email") and "@" not in endpoint:
        raise invalid("Email address")


def subscribe(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """Subscribe: idempotent for the same protocol and endpoint (and attributes)."""
    protocol = string(body, "Protocol", required=True)
    assert protocol is not None
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    endpoint = string(body, "Endpoint") or ""
    given = check_attributes(attribute_map(body))
    want_arn = str(body.get("ReturnSubscriptionArn", "")).lower() == "true"
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        topic = load_topic(ctx, tx, body.get("TopicArn"), "Subscribe")
        _check_endpoint(protocol, endpoint, bool(topic["fifo"]))
        found = tx.topics.find_subscription(topic["arn"], protocol, endpoint)
        if found is not None:
            values = stored(found)
            if any(values.get(k, "") != v for k, v in given.items()):
                raise invalid("Attributes", "Subscription already exists with different attributes")
        else:
            found = tx.topics.add_subscription(
                {
                    "arn": f"{topic['arn']}:{uuid.uuid4()}",
                    "topic_arn": topic["arn"],
                    "account": ctx.account,
                    "protocol": protocol,
                    "endpoint": endpoint,
                    "status": "confirmed" if protocol == "sqs" else "pending",
                    "attributes": json.dumps(given),
                    "created_at": now,
                }
            )
        if found["status"] == "pending" and not want_arn:
            return {"SubscriptionArn": "pending confirmation"}
        return {"SubscriptionArn": found["arn"]}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def unsubscribe(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """Unsubscribe; a subscription that is not there (any more) is no error."""
    arn = parse_subscription_arn(body.get("SubscriptionArn"))

    def work(tx: Any) -> dict[str, Any]:
        found = tx.topics.subscription(arn)
        if found is not None and found["account"] == ctx.account:
            tx.topics.delete_subscription(arn)
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def _page(ctx: ServiceContext, tx: Any, topic_arn: str | None, token: Any) -> dict[str, Any]:
    after_text = decode_token(token)
    try:
        after = int(after_text or 0)
    except ValueError as exc:
        raise invalid("NextToken") from exc
    rows = tx.topics.subscription_page(ctx.account, topic_arn, after, PAGE_SIZE + 1)
    result: dict[str, Any] = {"Subscriptions": [_present(r) for r in rows[:PAGE_SIZE]]}
    if len(rows) > PAGE_SIZE:
        result["NextToken"] = encode_token(str(rows[PAGE_SIZE - 1]["id"]))
    return result


def list_subscriptions(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """ListSubscriptions: the account's subscriptions, 100 a page."""
    return ctx.store.read(  # type: ignore[no-any-return]
        lambda tx: _page(ctx, tx, None, body.get("NextToken"))
    )


def list_subscriptions_by_topic(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ListSubscriptionsByTopic: one topic's subscriptions, 100 a page."""

    def work(tx: Any) -> dict[str, Any]:
        topic = load_topic(ctx, tx, body.get("TopicArn"), "ListSubscriptionsByTopic")
        return _page(ctx, tx, topic["arn"], body.get("NextToken"))

    return ctx.store.read(work)  # type: ignore[no-any-return]


def get_subscription_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """GetSubscriptionAttributes."""

    def work(tx: Any) -> dict[str, Any]:
        row = load_subscription(ctx, tx, body.get("SubscriptionArn"))
        values = {
            "ConfirmationWasAuthenticated": "true",
            "PendingConfirmation": "true" if row["status"] == "pending" else "false",
            "Owner": row["account"],
            "RawMessageDelivery": "false",
            "TopicArn": row["topic_arn"],
            "Endpoint": row["endpoint"],
            "Protocol": row["protocol"],
            "SubscriptionArn": row["arn"],
            "SubscriptionPrincipal": f"arn:aws:iam::{row['account']}:root",
        }
        values.update(stored(row))
        if values.get("FilterPolicy"):
            values.setdefault("FilterPolicyScope", filter_policy.ATTRIBUTES)
        return {"Attributes": values}

    return ctx.store.read(work)  # type: ignore[no-any-return]


def set_subscription_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """SetSubscriptionAttributes: one attribute a call (an empty value removes it)."""
    name = string(body, "AttributeName", required=True)
    value = string(body, "AttributeValue") or ""
    assert name is not None
    if name not in SETTABLE:
        raise invalid("AttributeName")

    def work(tx: Any) -> dict[str, Any]:
        row = load_subscription(ctx, tx, body.get("SubscriptionArn"))
        values = stored(row)
        if value == "":
            values.pop(name, None)
        else:
            values[name] = value
        tx.topics.update_subscription(row["arn"], attributes=json.dumps(check_attributes(values)))
        return {}

    return ctx.store.run(work)  # type: ignore[no-any-return]


def confirm_subscription(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ConfirmSubscription: no confirmation token is ever sent here, so none is valid."""

    def work(tx: Any) -> dict[str, Any]:
        load_topic(ctx, tx, body.get("TopicArn"), "ConfirmSubscription")
        raise invalid("Token")

    return ctx.store.read(work)  # type: ignore[no-any-return]
