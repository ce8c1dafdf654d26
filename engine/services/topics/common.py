"""What every topic operation shares: ARNs, finding a topic or subscription, string
parameters, paging tokens, and the transaction runner."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues.common import Caller
from engine.services.topics.errors import AuthorizationError, NotFound, invalid

# SNS's default maximum message size (a topic's MaximumMessageSize may not raise it here).
MAX_MESSAGE_BYTES = 262_144
# Topic names: 1-256 letters, digits, hyphens and underscores; FIFO names end in ".fifo".
TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
_SUBSCRIPTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256}):([0-9a-f-]{36})$"
)

__all__ = ["Caller", "MAX_MESSAGE_BYTES"]


def topic_arn(region: str, account: str, name: str) -> str:
    """A topic's ARN."""
    return f"arn:aws:sns:{region}:{account}:{name}"


def string(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    """A string parameter (InvalidParameter when required and missing, or not a string)."""
    value = body.get(name)
    if value is None or (value == "" and required):
        if required:
            raise invalid(name, "no value for required parameter")
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def parse_topic_arn(value: Any, name: str = "TopicArn") -> tuple[str, str, str]:
    """(region, account, topic name) of a topic ARN (InvalidParameter otherwise)."""
    if value is None or value == "":
        raise invalid(name, "no value for required parameter")
    match = _ARN.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid(name)
    return match.group(1), match.group(2), match.group(3)


def parse_subscription_arn(value: Any, name: str = "SubscriptionArn") -> str:
    """A well-formed subscription ARN (InvalidParameter otherwise)."""
    if value is None or value == "":
        raise invalid(name, "no value for required parameter")
    if not isinstance(value, str) or _SUBSCRIPTION_ARN.match(value) is None:
        raise invalid(name)
    return value


def check_account(ctx: ServiceContext, account: str, arn: str, action: str) -> None:
    """AuthorizationError for a resource of another account (we serve one account)."""
    if account != ctx.account:
        raise AuthorizationError(
            f"User: arn:aws:iam::{ctx.account}:root is not authorized to perform: "
            f"SNS:{action} on resource: {arn}"
        )


def load_topic(
    ctx: ServiceContext, tx: Any, arn: Any, action: str, lock: bool = False
) -> dict[str, Any]:
    """The topic an ARN names (NotFound otherwise); locked on PostgreSQL when ``lock``."""
    _region, account, _name = parse_topic_arn(arn)
    check_account(ctx, account, arn, action)
    topic = tx.topics.lock(arn) if lock else tx.topics.get(arn)
    if topic is None:
        raise NotFound("Topic does not exist")
    return dict(topic)


def load_subscription(ctx: ServiceContext, tx: Any, arn: Any) -> dict[str, Any]:
    """The subscription an ARN names (NotFound otherwise)."""
    parse_subscription_arn(arn)
    found = tx.topics.subscription(arn)
    if found is None or found["account"] != ctx.account:
        raise NotFound("Subscription does not exist")
    return dict(found)


def stored(row: dict[str, Any], column: str = "attributes") -> dict[str, str]:
    """A row's JSON-encoded attribute (or tag) map."""
    return dict(json.loads(row[column] or "{}"))


def attribute_map(body: dict[str, Any], name: str = "Attributes") -> dict[str, str]:
    """A string-to-string map parameter (InvalidParameter when of another shape)."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise invalid(name, "must be a map of strings")
    return dict(value)


def encode_token(value: str) -> str:
    """An opaque NextToken for ``value`` (where the next page starts after)."""
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_token(token: Any) -> str:
    """The value a NextToken stands for (InvalidParameter when it is not one of ours)."""
    if token is None or token == "":
        return ""
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("NextToken") from exc


def sequence_text(sequence: int | None) -> str:
    """A FIFO SequenceNumber as SNS writes it (20 decimal digits)."""
    return f"{int(sequence or 0):020d}"
