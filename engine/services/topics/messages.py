"""What a Publish (or a PublishBatch entry) carries, validated against its topic: the
message (one text per protocol with MessageStructure=json), subject, message attributes, and
for FIFO topics the message group and deduplication ids."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.services.queues.contents import base64_text
from engine.services.topics.common import MAX_MESSAGE_BYTES, stored
from engine.services.topics.errors import InvalidParameterValue, invalid

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,256})?$")
# Group and deduplication ids: 1-128 alphanumeric or punctuation characters.
_TOKEN = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Message:
    """A validated message, ready to publish."""

    text: str
    # With MessageStructure=json: the text for each protocol ("default" for the others).
    per_protocol: dict[str, str] = field(default_factory=dict)
    subject: str | None = None
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    group: str | None = None
    dedup: str | None = None

    def for_protocol(self, protocol: str) -> str:
        """The message text a subscription of ``protocol`` receives."""
        if not self.per_protocol:
            return self.text
        return self.per_protocol.get(protocol, self.per_protocol["default"])


def check_attributes(raw: Any) -> dict[str, dict[str, str]]:
    """Message attributes reduced to {name: {DataType, StringValue | BinaryValue (base64)}}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("MessageAttributes", "must be a map")
    out: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        if (
            not isinstance(name, str)
            or not _ATTRIBUTE_NAME.match(name)
            or name.lower().startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterValue(f"Invalid attribute name: {name}")
        if not isinstance(value, dict):
            raise InvalidParameterValue(f"The message attribute '{name}' must be a structure.")
        out[name] = _check_value(name, value)
    return out


def _check_value(name: str, value: dict[str, Any]) -> dict[str, str]:
    data_type = value.get("DataType")
    if not data_type:
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute type."
        )
    if not isinstance(data_type, str) or not (
        _DATA_TYPE.match(data_type) or data_type == "String.Array"
    ):
        raise InvalidParameterValue(
            f"The message attribute '{name}' has an invalid message attribute type, the set of "
            "supported type prefixes is Binary, Number, and String."
        )
    if data_type.startswith("Binary"):
        binary = value.get("BinaryValue")
        if binary in (None, "", b""):
            raise InvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute "
                "value for message attribute type 'Binary'."
            )
        try:
            return {"DataType": data_type, "BinaryValue": base64_text(binary)}
        except ValueError as exc:
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid binary value."
            ) from exc
    text = value.get("StringValue")
    if text is None or text == "" or not isinstance(text, str):
        kind = data_type.split(".", 1)[0]
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute value "
            f"for message attribute type '{kind}'."
        )
    if data_type.startswith("Number"):
        try:
            Decimal(text)
        except InvalidOperation as exc:
            raise InvalidParameterValue(
                f"Could not cast message attribute '{name}' value to number."
            ) from exc
    if data_type == "String.Array":
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if not isinstance(items, list) or any(isinstance(i, dict | list) for i in items):
            raise InvalidParameterValue(
                f"The message attribute '{name}' with type 'String.Array' has an invalid "
                "value: it must be a JSON array of strings, numbers, true, false or null."
            )
    return {"DataType": data_type, "StringValue": text}


def size_of(text: str, attributes: dict[str, dict[str, str]]) -> int:
    """Bytes counted against the message size limit: message plus attribute names, types and
    values."""
    total = len(text.encode())
    for name, value in attributes.items():
        data = value.get("StringValue") or value.get("BinaryValue") or ""
        total += len(name.encode()) + len(value["DataType"].encode()) + len(data.encode())
    return total


def check_message(topic: dict[str, Any], entry: dict[str, Any]) -> Message:
    """Validate one message for ``topic`` (Publish parameters or a PublishBatch entry)."""
    text = entry.get("Message")
    if text is None or text == "":
        raise invalid("Empty message")
    if not isinstance(text, str):
        raise invalid("Message", "must be a string")
    message = Message(text=text, attributes=check_attributes(entry.get("MessageAttributes")))
    subject = entry.get("Subject")
    if subject is not None:
        if (
            not isinstance(subject, str)
            or not subject.strip()
            or len(subject) >= 100
            or _CONTROL.search(subject)
        ):
            raise invalid("Subject")
        message.subject = subject
    structure = entry.get("MessageStructure")
    if structure is not None and structure != "":
        if structure != "json":
            raise invalid("MessageStructure")
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise invalid("Message Structure - JSON message body failed to parse") from exc
        if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
            raise invalid("Message Structure - No default entry in JSON message body")
        # Non-string values are ignored, as SNS documents.
        message.per_protocol = {k: v for k, v in parsed.items() if isinstance(v, str)}
    if size_of(text, message.attributes) > MAX_MESSAGE_BYTES:
        raise invalid("Message too long")
    _check_fifo(topic, entry, message)
    return message


def _check_fifo(topic: dict[str, Any], entry: dict[str, Any], message: Message) -> None:
    group, dedup = entry.get("MessageGroupId"), entry.get("MessageDeduplicationId")
    for name, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
        if value is not None and (not isinstance(value, str) or not _TOKEN.match(value)):
            raise invalid(
                name,
                f"{name} can only include alphanumeric and punctuation characters. "
                "1 to 128 in length.",
            )
    if not topic["fifo"]:
        if dedup is not None:
            raise invalid(
                "MessageDeduplicationId",
                "The request includes MessageDeduplicationId parameter that is not valid for "
                "this topic type",
            )
        # Standard topics forward a MessageGroupId to SQS standard queues (fair queues).
        message.group = group
        return
    if not group:
        raise invalid("The MessageGroupId parameter is required for FIFO topics")
    if not dedup:
        if stored(topic).get("ContentBasedDeduplication") != "true":
            raise invalid(
                "The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        # Content-based deduplication hashes the message body, not its attributes.
        dedup = hashlib.sha256(message.text.encode()).hexdigest()
    message.group, message.dedup = group, dedup
