"""Queue attributes: names, defaults, ranges and normalised values, as the SQS API reference
(CreateQueue, SetQueueAttributes, GetQueueAttributes) defines them."""

from __future__ import annotations

import json
import re
from typing import Any

from engine.services.queues.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
)

# Integer attributes and their inclusive ranges. MaximumMessageSize may reach 1 MiB since
# August 2025; the default here stays 256 KiB, the long-standing SQS default.
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}

DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": "262144",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}

FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

FIFO_ONLY = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
BOOLEANS = {"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"}
CHOICES = {
    "DeduplicationScope": {"messageGroup", "queue"},
    "FifoThroughputLimit": {"perQueue", "perMessageGroupId"},
}
FREE_TEXT = {"Policy", "KmsMasterKeyId"}
JSON_POLICIES = {"RedrivePolicy", "RedriveAllowPolicy"}
SETTABLE = set(INTEGER_RANGES) | BOOLEANS | set(CHOICES) | FREE_TEXT | JSON_POLICIES
COMPUTED = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
}
READABLE = SETTABLE | COMPUTED

QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:(\d{12}):([A-Za-z0-9_.-]{1,80})$")
MAX_RECEIVE_COUNT = (1, 1000)
MAX_SOURCE_QUEUE_ARNS = 10


def check_queue_name(name: Any, fifo: bool) -> str:
    """A queue name: 1-80 alphanumerics, hyphens and underscores; FIFO names end in .fifo."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterValue(
            "Value for parameter QueueName is invalid. Reason: Must specify a queue name."
        )
    base = name[: -len(".fifo")] if name.endswith(".fifo") else name
    if name.endswith(".fifo") and not fifo:
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
    if fifo and not name.endswith(".fifo"):
        raise InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    if len(name) > 80 or not QUEUE_NAME.match(base):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
    return name


def invalid_value(name: str, reason: str | None = None) -> InvalidAttributeValue:
    """SQS's message for a bad attribute value."""
    message = f"Invalid value for the parameter {name}."
    if reason:
        message += f" Reason: {reason}"
    return InvalidAttributeValue(message)


def normalise(raw: Any, fifo: bool, creating: bool) -> dict[str, str]:
    """Validate attributes given to CreateQueue (``creating``) or SetQueueAttributes and return
    them in their canonical string form. An empty RedrivePolicy/RedriveAllowPolicy on
    SetQueueAttributes means "remove" and is returned as ""."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParameterValue("Attributes must be a map of attribute names to values.")
    result: dict[str, str] = {}
    for name, value in raw.items():
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo and name != "FifoQueue"):
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name == "FifoQueue" and not creating:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        text = "" if value is None else str(value)
        result[name] = _normalise_one(name, text, creating)
    if result.get("FifoQueue") == "false" and fifo:
        raise invalid_value("FifoQueue")
    return result


def _normalise_one(name: str, text: str, creating: bool) -> str:
    if name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[name]
        if not re.fullmatch(r"-?\d{1,12}", text.strip()) or not low <= int(text) <= high:
            raise invalid_value(name)
        return str(int(text))
    if name in BOOLEANS:
        if text.lower() not in ("true", "false"):
            raise invalid_value(name)
        return text.lower()
    if name in CHOICES:
        if text not in CHOICES[name]:
            raise invalid_value(name)
        return text
    if name in JSON_POLICIES:
        if text == "" and not creating:
            return ""
        try:
            policy = json.loads(text)
        except ValueError as exc:
            raise invalid_value(name, "Invalid JSON.") from exc
        if not isinstance(policy, dict):
            raise invalid_value(name, "Invalid JSON.")
        if name == "RedrivePolicy":
            return _redrive_policy(policy)
        return _redrive_allow_policy(policy)
    if name == "Policy" and text:
        try:
            json.loads(text)
        except ValueError as exc:
            raise invalid_value(name, "Invalid JSON.") from exc
    return text


def _redrive_policy(policy: dict[str, Any]) -> str:
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    unknown = set(policy) - {"deadLetterTargetArn", "maxReceiveCount"}
    if unknown:
        raise invalid_value(
            "RedrivePolicy", f"Redrive policy has unknown fields: {sorted(unknown)}."
        )
    if not isinstance(target, str) or not QUEUE_ARN.match(target):
        raise invalid_value("RedrivePolicy", "Invalid value for deadLetterTargetArn.")
    try:
        number = int(str(count))
    except ValueError as exc:
        raise invalid_value("RedrivePolicy", "Invalid value for maxReceiveCount.") from exc
    if not MAX_RECEIVE_COUNT[0] <= number <= MAX_RECEIVE_COUNT[1]:
        raise invalid_value(
            "RedrivePolicy", "Value for maxReceiveCount must be between 1 and 1000."
        )
    return json.dumps(
        {"deadLetterTargetArn": target, "maxReceiveCount": number}, separators=(",", ":")
    )


def _redrive_allow_policy(policy: dict[str, Any]) -> str:
    permission = policy.get("redrivePermission")
    sources = policy.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value("RedriveAllowPolicy", "Invalid value for redrivePermission.")
    result: dict[str, Any] = {"redrivePermission": permission}
    if permission == "byQueue":
        if (
            not isinstance(sources, list)
            or not 1 <= len(sources) <= MAX_SOURCE_QUEUE_ARNS
            or not all(isinstance(s, str) and QUEUE_ARN.match(s) for s in sources)
        ):
            raise invalid_value(
                "RedriveAllowPolicy",
                "sourceQueueArns must list 1 to 10 queue ARNs when redrivePermission is byQueue.",
            )
        result["sourceQueueArns"] = sources
    elif sources:
        raise invalid_value(
            "RedriveAllowPolicy",
            "sourceQueueArns may only be given when redrivePermission is byQueue.",
        )
    return json.dumps(result, separators=(",", ":"))


def stored(queue: dict[str, Any]) -> dict[str, str]:
    """A queue row's settable attributes with defaults filled in."""
    values = dict(DEFAULTS)
    if queue["fifo"]:
        values.update(FIFO_DEFAULTS)
    values.update(json.loads(queue["attributes"]))
    if values.get("KmsMasterKeyId"):
        # SSE-KMS replaces SQS-managed encryption.
        values["SqsManagedSseEnabled"] = "false"
    return values


def integer(queue: dict[str, Any], name: str) -> int:
    """An integer attribute of a queue row."""
    return int(stored(queue)[name])


def requested_names(names: Any) -> set[str]:
    """GetQueueAttributes' AttributeNames: ``All`` or known names (InvalidAttributeName else)."""
    if not names:
        return set()
    if not isinstance(names, list):
        names = [names]
    wanted: set[str] = set()
    for name in names:
        if name == "All":
            return set(READABLE)
        if not isinstance(name, str) or name not in READABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        wanted.add(name)
    return wanted
