"""Message contents: body and attribute validation, sizes, and the MD5 digests SDKs verify.

The attribute digest follows the SQS developer guide ("Calculating the MD5 message digest for
message attributes"): attributes sorted by name, each encoded as length-prefixed name, length-
prefixed data type, a transport byte (1 string, 2 binary) and the length-prefixed value.
"""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.services.queues.errors import (
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
)

MAX_MESSAGE_ATTRIBUTES = 10
# The characters SQS accepts in a body and in string attribute values.
_INVALID_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[^\s].{0,240})?$")
# MessageGroupId / MessageDeduplicationId: 1-128 alphanumerics and punctuation.
_TOKEN = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def check_body(body: Any) -> str:
    """A message body: present, non-empty, and only characters SQS allows."""
    if body is None:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if not isinstance(body, str):
        raise InvalidParameterValue("MessageBody must be a string.")
    if body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    bad = _INVALID_CHAR.search(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, "
            "the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
            "#xFFFD | #x10000 to #x10FFFF"
        )
    return body


def check_token(name: str, value: Any) -> str:
    """MessageGroupId or MessageDeduplicationId."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: {name} can only include "
            "alphanumeric and punctuation characters. 1 to 128 in length."
        )
    return value


def check_attributes(raw: Any, system: bool = False) -> dict[str, dict[str, str]]:
    """Message attributes (or, with ``system``, MessageSystemAttributes: only AWSTraceHeader)
    validated and reduced to {name: {DataType, StringValue | BinaryValue (base64)}}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParameterValue("MessageAttributes must be a map.")
    kind = "system" if system else "user"
    if len(raw) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    result: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        if system:
            if name != "AWSTraceHeader":
                raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        elif (
            not _ATTRIBUTE_NAME.match(name)
            or name.lower().startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterValue(f"Message ({kind}) attribute name '{name}' is invalid.")
        result[name] = _check_value(name, value, kind)
    return result


def base64_text(binary: Any) -> str:
    """A Binary attribute value as the base64 text the wire carries: bytes are encoded, text
    must already be base64 (ValueError otherwise; binascii.Error is one)."""
    if isinstance(binary, bytes):
        binary = base64.b64encode(binary).decode()
    base64.b64decode(str(binary), validate=True)
    return str(binary)


def _check_value(name: str, value: Any, kind: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidParameterValue(f"Message ({kind}) attribute '{name}' must be a structure.")
    data_type = value.get("DataType")
    if not data_type:
        raise InvalidParameterValue(
            f"The message ({kind}) attribute '{name}' must contain a non-empty attribute type."
        )
    if not isinstance(data_type, str) or not _DATA_TYPE.match(data_type):
        raise InvalidParameterValue(
            f"The type of message ({kind}) attribute '{name}' is invalid. You must use only the "
            "following supported type prefixes: Binary, Number, String."
        )
    if value.get("StringListValues") or value.get("BinaryListValues"):
        raise InvalidParameterValue(
            f"Message ({kind}) attribute '{name}': list values are not supported."
        )
    if data_type.startswith("Binary"):
        binary = value.get("BinaryValue")
        if binary in (None, "", b""):
            raise InvalidParameterValue(
                f"The message ({kind}) attribute '{name}' must contain a non-empty value of "
                "type 'Binary'."
            )
        try:
            return {"DataType": data_type, "BinaryValue": base64_text(binary)}
        except ValueError as exc:
            raise InvalidParameterValue(
                f"Message ({kind}) attribute '{name}' has an invalid binary value."
            ) from exc
    text = value.get("StringValue")
    if text is None or text == "":
        raise InvalidParameterValue(
            f"The message ({kind}) attribute '{name}' must contain a non-empty value of type "
            f"'{data_type.split('.', 1)[0]}'."
        )
    text = str(text)
    if _INVALID_CHAR.search(text):
        raise InvalidMessageContents(
            f"Message ({kind}) attribute '{name}' contains invalid characters."
        )
    if data_type.startswith("Number"):
        try:
            Decimal(text)
        except InvalidOperation as exc:
            raise InvalidParameterValue(
                f"Can't cast the value of message ({kind}) attribute '{name}' to a number."
            ) from exc
    return {"DataType": data_type, "StringValue": text}


def _value_bytes(value: dict[str, str]) -> bytes:
    if "BinaryValue" in value:
        return base64.b64decode(value["BinaryValue"])
    return value["StringValue"].encode()


def size_of(body: str, attributes: dict[str, dict[str, str]]) -> int:
    """Bytes counted against MaximumMessageSize: body plus names, types and values."""
    total = len(body.encode())
    for name, value in attributes.items():
        total += len(name.encode()) + len(value["DataType"].encode()) + len(_value_bytes(value))
    return total


def md5_hex(text: str) -> str:
    """MD5OfMessageBody / MD5OfBody."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: dict[str, dict[str, str]]) -> str | None:
    """MD5OfMessageAttributes (None when there are none, as SQS omits it)."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        for part in (name.encode(), value["DataType"].encode()):
            digest.update(len(part).to_bytes(4, "big") + part)
        digest.update(b"\x02" if "BinaryValue" in value else b"\x01")
        data = _value_bytes(value)
        digest.update(len(data).to_bytes(4, "big") + data)
    return digest.hexdigest()


def select_attributes(
    attributes: dict[str, dict[str, str]], names: list[str]
) -> dict[str, dict[str, str]]:
    """The message attributes ReceiveMessage's MessageAttributeNames ask for: ``All``, ``.*``,
    a ``prefix.*`` or exact names."""
    if not names or not attributes:
        return {}
    if "All" in names or ".*" in names:
        return dict(attributes)
    chosen: dict[str, dict[str, str]] = {}
    for name, value in attributes.items():
        for pattern in names:
            if pattern == name or (pattern.endswith(".*") and name.startswith(pattern[:-1])):
                chosen[name] = value
                break
    return chosen
