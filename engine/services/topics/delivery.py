"""Fan-out to SQS subscriptions, inside the Publish transaction.

Each matching subscription's queue receives the message through the queue service's own
SendMessage (engine.services.queues), run in the publisher's transaction through a bound
context (engine.services.bound): the queue rows commit together with the Publish, so a
message acknowledged by Publish is in every subscribed queue, and a receiver long-polling
one of them is woken only after that commit.

What the queue receives is the SNS envelope (``Type: Notification`` JSON), or with
``RawMessageDelivery=true`` the message itself, its message attributes becoming SQS message
attributes. A delivery the queue refuses (the queue was deleted, the message breaks one of the
queue's rules) goes to the subscription's RedrivePolicy dead-letter queue if it has one, and is
otherwise dropped, as SNS drops a message whose retries are exhausted; the Publish succeeds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from engine.services.bound import bound_context
from engine.services.context import ServiceContext
from engine.services.queues import OPERATIONS as SQS_OPERATIONS
from engine.services.queues import SqsError
from engine.services.topics import filter_policy
from engine.services.topics.common import Caller, stored
from engine.services.topics.messages import Message
from engine.services.topics.subscriptions import SQS_ARN, queue_url_of

log = logging.getLogger("stepwell.topics")
# The certificate SNS signs with is AWS's; the URL has AWS's form (nothing is served there).
SIGNING_CERT = "SimpleNotificationService-6209c161c6221fdf56ec1eb5c821d112.pem"


def timestamp(now: float) -> str:
    """An SNS Timestamp: ISO 8601, UTC, milliseconds."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def envelope(
    caller: Caller,
    topic: dict[str, Any],
    subscription: dict[str, Any],
    message: Message,
    message_id: str,
    sequence: str | None,
    now: float,
) -> str:
    """The JSON notification SNS delivers to SQS (and HTTP) subscriptions."""
    body: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic["arn"],
    }
    if message.subject is not None:
        body["Subject"] = message.subject
    body["Message"] = message.for_protocol(subscription["protocol"])
    if sequence is not None:
        body["SequenceNumber"] = sequence
    body["Timestamp"] = timestamp(now)
    body["SignatureVersion"] = stored(topic).get("SignatureVersion", "1")
    # Stepwell holds no AWS signing key: the signature is a digest of the canonical string
    # SNS signs (so it differs per message), not a verifiable RSA signature.
    canonical = "".join(
        f"{k}\n{body[k]}\n"
        for k in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        if k in body
    )
    body["Signature"] = base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()
    body["SigningCertURL"] = f"https://sns.{caller.region}.amazonaws.com/{SIGNING_CERT}"
    body["UnsubscribeURL"] = (
        f"{caller.base}/?Action=Unsubscribe&SubscriptionArn={subscription['arn']}"
    )
    if message.attributes:
        body["MessageAttributes"] = {
            name: {
                "Type": value["DataType"],
                "Value": value.get("StringValue", value.get("BinaryValue")),
            }
            for name, value in message.attributes.items()
        }
    return json.dumps(body, indent=2, separators=(",", " : "), ensure_ascii=False)


def deliver_all(
    ctx: ServiceContext,
    tx: Any,
    caller: Caller,
    topic: dict[str, Any],
    message: Message,
    message_id: str,
    sequence: str | None,
    now: float,
    wake_keys: list[str],
) -> int:
    """Hand the message to every confirmed SQS subscription whose filter policy it passes;
    returns how many queues received it. The queues' long-poll keys go to ``wake_keys``."""
    queue_ctx = bound_context(tx, now, ctx.account, caller.region, wake_keys)
    # Queue rows read by earlier deliveries of this node stay valid as the queue service's.
    queue_ctx.queue_cache = ctx.queue_cache
    delivered = 0
    for subscription in tx.topics.subscriptions_of(topic["arn"]):
        if subscription["protocol"] != "sqs" or subscription["status"] != "confirmed":
            continue  # other protocols are stored but not delivered to (out of scope)
        values = stored(subscription)
        scope = values.get("FilterPolicyScope", filter_policy.ATTRIBUTES)
        policy = filter_policy.parse(values.get("FilterPolicy", ""), scope)
        text = message.for_protocol("sqs")
        if not filter_policy.matches(policy, scope, text, message.attributes):
            continue
        if values.get("RawMessageDelivery") == "true":
            request: dict[str, Any] = {"MessageBody": text}
            if message.attributes:
                request["MessageAttributes"] = message.attributes
        else:
            request = {
                "MessageBody": envelope(
                    caller, topic, subscription, message, message_id, sequence, now
                )
            }
        if message.group is not None:
            request["MessageGroupId"] = message.group
        if subscription["endpoint"].endswith(".fifo"):
            request["MessageDeduplicationId"] = message.dedup or message_id
        if _send(queue_ctx, caller, subscription["endpoint"], request, values):
            delivered += 1
    return delivered


def _send(
    queue_ctx: ServiceContext,
    caller: Caller,
    queue_arn: str,
    request: dict[str, Any],
    values: dict[str, str],
) -> bool:
    """SendMessage to the subscription's queue, else to its dead-letter queue."""
    try:
        SQS_OPERATIONS["SendMessage"](
            queue_ctx, caller, {**request, "QueueUrl": queue_url_of(queue_arn)}
        )
        return True
    except SqsError as err:
        log.info("delivery to %s failed: %s %s", queue_arn, err.code, err.message)
    redrive = json.loads(values.get("RedrivePolicy") or "{}")
    target = redrive.get("deadLetterTargetArn") if isinstance(redrive, dict) else None
    if not isinstance(target, str) or SQS_ARN.match(target) is None:
        return False
    try:
        SQS_OPERATIONS["SendMessage"](
            queue_ctx, caller, {**request, "QueueUrl": queue_url_of(target)}
        )
    except SqsError as err:
        log.info("delivery to dead-letter queue %s failed: %s", target, err.message)
    return False
