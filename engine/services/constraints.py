"""Step Functions request members checked as the service checks them: the length, range and
enum constraints of botocore's ``stepfunctions`` model that SDKs leave to the server (botocore
checks only ``min``), and the structures with rules of their own (logging, tracing, tags).

Messages follow AWS's "1 validation error detected: Value ... at '<member>' failed to satisfy
constraint: ..." form, so a client sees what it would see from AWS.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InvalidArn, ServiceError, ValidationError

# An ARN's shape (arn:partition:service:region:account:resource); IAM role ARNs have no region.
_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$")
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
# AWS quota: 50 tags per resource (TagResource: "TooManyTags").
MAX_TAGS = 50


class InvalidLoggingConfiguration(ServiceError):
    """AWS: InvalidLoggingConfiguration."""

    code = "InvalidLoggingConfiguration"


class InvalidTracingConfiguration(ServiceError):
    """AWS: InvalidTracingConfiguration."""

    code = "InvalidTracingConfiguration"


class MissingRequiredParameter(ServiceError):
    """AWS: MissingRequiredParameter (UpdateStateMachine with nothing to update)."""

    code = "MissingRequiredParameter"


class TooManyTags(ServiceError):
    """AWS: TooManyTags."""

    code = "TooManyTags"
    kind = "limit"


def invalid(field: str, constraint: str, value: Any = None) -> ValidationError:
    """AWS's ValidationException for one member breaking one constraint."""
    shown = "" if value is None else f" '{value}'"
    return ValidationError(
        f"1 validation error detected: Value{shown} at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def required(request: dict[str, Any], field: str) -> Any:
    """A member that must be present (AWS: "Value null ... Member must not be null")."""
    value = request.get(field)
    if value is None:
        raise ValidationError(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def text(request: dict[str, Any], field: str, maximum: int) -> str | None:
    """An optional string member of at most ``maximum`` characters."""
    value = request.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "Member must be a string")
    if len(value) > maximum:
        raise invalid(field, f"Member must have length less than or equal to {maximum}")
    return value


def choice(
    request: dict[str, Any], field: str, allowed: tuple[str, ...], path: str = ""
) -> str | None:
    """An optional enum member (``path``: where the structure holding it sits)."""
    value = request.get(field)
    if value is not None and value not in allowed:
        raise invalid(
            path + field, f"Member must satisfy enum value set: [{', '.join(allowed)}]", value
        )
    return value


def number(request: dict[str, Any], field: str, low: int, high: int) -> int | None:
    """An optional integer member within [low, high]."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "Member must be an integer", value)
    if value > high:
        raise invalid(field, f"Member must have value less than or equal to {high}", value)
    if value < low:
        raise invalid(field, f"Member must have value greater than or equal to {low}", value)
    return value


def role_arn(value: Any, field: str = "roleArn") -> str:
    """A roleArn: an ARN of at most 256 characters (InvalidArn when it is not an ARN)."""
    if not isinstance(value, str):
        raise invalid(field, "Member must be a string")
    if len(value) > 256:
        raise invalid(field, "Member must have length less than or equal to 256")
    if not _ARN.match(value):
        raise InvalidArn(f"Invalid Arn: '{value}'")
    return value


def logging_configuration(value: Any) -> dict[str, Any] | None:
    """A loggingConfiguration as DescribeStateMachine reports it (level and
    includeExecutionData filled in); None when absent. AWS refuses a level other than OFF
    without exactly one log destination."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("loggingConfiguration", "Member must be a structure")
    level = choice(value, "level", LOG_LEVELS, "loggingConfiguration.") or "OFF"
    include = value.get("includeExecutionData", False)
    if not isinstance(include, bool):
        raise invalid("loggingConfiguration.includeExecutionData", "Member must be a boolean")
    destinations = value.get("destinations")
    if destinations is not None and not isinstance(destinations, list):
        raise invalid("loggingConfiguration.destinations", "Member must be a list")
    if level != "OFF" and len(destinations or []) != 1:
        raise InvalidLoggingConfiguration(
            "Invalid Logging Configuration: Must specify exactly one Log Destination if "
            f"logging level is not OFF (level: {level})."
        )
    out: dict[str, Any] = {"level": level, "includeExecutionData": include}
    if destinations:
        out["destinations"] = destinations
    return out


def tracing_configuration(value: Any) -> dict[str, Any] | None:
    """A tracingConfiguration (``enabled``: a boolean); None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("enabled", False), bool):
        raise InvalidTracingConfiguration(
            "Invalid Tracing Configuration: 'enabled' must be a boolean"
        )
    return {"enabled": bool(value.get("enabled", False))}


def tags(value: Any, field: str = "tags") -> dict[str, str]:
    """A tag list ([{key, value}]) as a dict: keys 1-128 characters, values up to 256."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise invalid(field, "Member must be a list of tags")
    out: dict[str, str] = {}
    for position, tag in enumerate(value, start=1):
        key, tag_value = tag.get("key"), tag.get("value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid(
                f"{field}.{position}.member.key",
                "Member must have length less than or equal to 128",
                key,
            )
        if not isinstance(tag_value, str) or len(tag_value) > 256:
            raise invalid(
                f"{field}.{position}.member.value",
                "Member must have length less than or equal to 256",
                tag_value,
            )
        out[key] = tag_value
    return out


def tag_count(arn: str, count: int) -> None:
    """TooManyTags when a resource would carry more than 50 tags."""
    if count > MAX_TAGS:
        raise TooManyTags(
            f"Too many tags: {count} tags for '{arn}' exceed the maximum of {MAX_TAGS}"
        )
