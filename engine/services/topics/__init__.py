"""SNS-compatible topics: one function per SNS operation, each one transaction.

Every operation takes ``(ctx, caller, body)``: ``body`` is the request in the shapes of
botocore's ``sns/2010-03-31`` model, ``caller`` says which host the request used (for the
UnsubscribeURL of notifications) and its region (topic ARNs are regional).

Publishing delivers to SQS subscriptions in the Publish transaction (topics.delivery);
HTTP/HTTPS/email subscriptions are stored as PendingConfirmation and never delivered to; SMS,
mobile push, Lambda and Firehose subscriptions are refused.
"""

from __future__ import annotations

from typing import Any

from engine.services.queues.common import Operation, checked_operations
from engine.services.topics import admin, publishing, subscriptions
from engine.services.topics.common import Caller
from engine.services.topics.errors import SnsError, invalid

# The parameters botocore's model types as strings (top level of every operation's input).
_STRING_PARAMETERS = frozenset(
    {
        "AttributeName",
        "AttributeValue",
        "Endpoint",
        "Message",
        "MessageDeduplicationId",
        "MessageGroupId",
        "MessageStructure",
        "Name",
        "NextToken",
        "PhoneNumber",
        "Protocol",
        "ResourceArn",
        "Subject",
        "SubscriptionArn",
        "TargetArn",
        "Token",
        "TopicArn",
    }
)


def check_types(body: dict[str, Any]) -> None:
    """InvalidParameter for a string parameter given as another JSON type."""
    for name, value in body.items():
        if name in _STRING_PARAMETERS and value is not None and not isinstance(value, str):
            raise invalid(name, "must be a string")


_OPERATIONS: dict[str, Operation] = {
    "CreateTopic": admin.create_topic,
    "DeleteTopic": admin.delete_topic,
    "ListTopics": admin.list_topics,
    "GetTopicAttributes": admin.get_topic_attributes,
    "SetTopicAttributes": admin.set_topic_attributes,
    "TagResource": admin.tag_resource,
    "UntagResource": admin.untag_resource,
    "ListTagsForResource": admin.list_tags_for_resource,
    "Subscribe": subscriptions.subscribe,
    "Unsubscribe": subscriptions.unsubscribe,
    "ConfirmSubscription": subscriptions.confirm_subscription,
    "ListSubscriptions": subscriptions.list_subscriptions,
    "ListSubscriptionsByTopic": subscriptions.list_subscriptions_by_topic,
    "GetSubscriptionAttributes": subscriptions.get_subscription_attributes,
    "SetSubscriptionAttributes": subscriptions.set_subscription_attributes,
    "Publish": publishing.publish,
    "PublishBatch": publishing.publish_batch,
}
OPERATIONS: dict[str, Operation] = checked_operations(_OPERATIONS, check_types)

__all__ = ["OPERATIONS", "Caller", "SnsError", "check_types"]
