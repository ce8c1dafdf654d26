"""Subscription filter policies: which published messages a subscription receives.

Pure: no I/O. The rules are AWS's ("Amazon SNS message filtering", SNS developer guide):

- A policy maps keys to arrays of conditions. A key matches when ANY of its conditions does
  (OR); the message matches when EVERY key does (AND). ``"$or": [policy, ...]`` matches when
  any of its sub-policies does.
- Scope ``MessageAttributes`` (the default) reads the message attributes: String and Number
  values, String.Array elements (any element matching is enough). Binary attributes match
  only ``exists``. Scope ``MessageBody`` reads the message as a JSON object; nested policy
  objects follow nested keys, and a JSON array in the message matches when any element does.
- Conditions: an exact string, an exact number, ``true``/``false``/``null`` (body only),
  ``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``, ``{"wildcard": s}``,
  ``{"anything-but": value | [values] | {"prefix": s} | {"suffix": s}}``,
  ``{"numeric": ["=", 5]}`` / ``[">", 0, "<=", 10]``, ``{"exists": true|false}``,
  ``{"cidr": "10.0.0.0/24"}``. Numbers match numbers only, strings match strings only.
- A key absent from the message matches only ``{"exists": false}``; ``anything-but`` needs
  the key to be present.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from engine.services.topics.errors import InvalidParameter

ATTRIBUTES = "MessageAttributes"
BODY = "MessageBody"
SCOPES = (ATTRIBUTES, BODY)
_MISSING = object()
_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists"}
    | {"cidr"}
)
_NUMERIC = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
# AWS's limits: five keys, and at most 150 combinations of values across them.
MAX_KEYS = 5
MAX_COMBINATIONS = 150


def _refuse(reason: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter: FilterPolicy: {reason}")


# --- validation ---------------------------------------------------------------------------------
def parse(text: str, scope: str) -> dict[str, Any] | None:
    """The policy a FilterPolicy attribute holds (None for an empty one), validated."""
    if not text.strip():
        return None
    try:
        policy = json.loads(text)
    except ValueError as exc:
        raise _refuse("failed to parse JSON") from exc
    if not isinstance(policy, dict):
        raise _refuse("Filter policy must be a JSON object")
    if not policy:
        return None
    keys, combinations = _check_policy(policy, scope, nested=False)
    if keys > MAX_KEYS:
        raise _refuse(f"Filter policy can not have more than {MAX_KEYS} keys")
    if combinations > MAX_COMBINATIONS:
        raise _refuse("Filter policy is too complex")
    return policy


def _check_policy(policy: dict[str, Any], scope: str, nested: bool) -> tuple[int, int]:
    """(leaf keys, value combinations) of a policy object, raising on a malformed one."""
    keys, combinations = 0, 1
    for key, value in policy.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _refuse("$or must be an array of at least two filter policies")
            counts = [_check_policy(_object(v), scope, nested) for v in value]
            keys += max(k for k, _ in counts)
            combinations *= sum(c for _, c in counts)
        elif isinstance(value, dict):
            if scope != BODY:
                raise _refuse(
                    f"Filter policy scope {ATTRIBUTES} does not support nested filter policy"
                )
            k, c = _check_policy(value, scope, nested=True)
            keys, combinations = keys + k, combinations * c
        elif isinstance(value, list):
            if not value:
                raise _refuse(f'Empty arrays are not allowed for "{key}"')
            for condition in value:
                _check_condition(condition)
            keys, combinations = keys + 1, combinations * len(value)
        else:
            raise _refuse(f'"{key}" must be an object or an array')
    return keys, combinations


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise _refuse("$or must be an array of filter policies")
    return value


def _check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, str | bool | int | float):
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise _refuse("Match value must be String, number, true, false, or null")
    ((operator, operand),) = condition.items()
    if operator not in _OPERATORS:
        raise _refuse(f"Unrecognized match type {operator}")
    if operator in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        if not isinstance(operand, str):
            raise _refuse(f"{operator} match pattern must be a string")
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise _refuse("exists match pattern must be either true or false.")
    elif operator == "numeric":
        _numeric_terms(operand)
    elif operator == "cidr":
        try:
            ipaddress.ip_network(str(operand), strict=False)
        except ValueError as exc:
            raise _refuse("Malformed CIDR, one '/' required") from exc
    elif operator == "anything-but":
        if isinstance(operand, dict):
            if len(operand) != 1 or next(iter(operand)) not in ("prefix", "suffix"):
                raise _refuse("Unsupported anything-but pattern")
            if not isinstance(next(iter(operand.values())), str):
                raise _refuse("anything-but prefix/suffix must be a string")
        elif isinstance(operand, list):
            if not operand or not all(_plain(v) for v in operand):
                raise _refuse("anything-but values must be strings or numbers")
        elif not _plain(operand):
            raise _refuse("anything-but values must be strings or numbers")


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _numeric_terms(operand: Any) -> list[tuple[str, float]]:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _refuse("Value of numeric must be an array of an operator and a number")
    terms = []
    for op, number in zip(operand[::2], operand[1::2], strict=True):
        if op not in _NUMERIC:
            raise _refuse(f"Unrecognized numeric range operator: {op}")
        if not _plain(number) or isinstance(number, str):
            raise _refuse(f"Value of {op} must be numeric")
        terms.append((str(op), float(number)))
    if len(terms) == 2 and (terms[0][0] not in (">", ">=") or terms[1][0] not in ("<", "<=")):
        raise _refuse("Bad numeric range operator")
    return terms


# --- matching -----------------------------------------------------------------------------------
def matches(
    policy: dict[str, Any] | None,
    scope: str,
    message: str,
    attributes: dict[str, dict[str, Any]],
) -> bool:
    """Whether a message (its text and its message attributes) passes a validated policy."""
    if policy is None:
        return True
    if scope == BODY:
        try:
            payload = json.loads(message)
        except ValueError:
            return False
        return isinstance(payload, dict) and _match_object(policy, payload)
    values = {name: _attribute_values(value) for name, value in attributes.items()}
    return _match_object(policy, values, flat=True)


def _attribute_values(value: dict[str, Any]) -> list[Any]:
    """What a message attribute offers to conditions (an empty list: present, unmatched)."""
    kind = str(value.get("DataType", "")).split(".", 1)[0]
    data_type = str(value.get("DataType", ""))
    text = value.get("StringValue")
    if data_type.startswith("String.Array"):
        try:
            items = json.loads(str(text))
        except ValueError:
            return []
        return list(items) if isinstance(items, list) else []
    if kind == "Number":
        try:
            return [float(str(text))]
        except ValueError:
            return []
    if kind == "String":
        return [text]
    return []


def _match_object(policy: dict[str, Any], payload: dict[str, Any], flat: bool = False) -> bool:
    for key, rule in policy.items():
        if key == "$or":
            if not any(_match_object(sub, payload, flat) for sub in rule):
                return False
            continue
        value = payload.get(key, _MISSING)
        if isinstance(rule, dict):
            children = value if isinstance(value, list) else [value]
            objects = [c if isinstance(c, dict) else {} for c in children]
            if not any(_match_object(rule, obj) for obj in objects):
                return False
            continue
        if value is _MISSING:
            candidates: list[Any] | None = None
        elif flat:
            candidates = value
        else:
            candidates = value if isinstance(value, list) else [value]
        if not any(_match_condition(c, candidates) for c in rule):
            return False
    return True


def _match_condition(condition: Any, candidates: list[Any] | None) -> bool:
    """Whether a condition accepts a key's values (None: the key is absent)."""
    if isinstance(condition, dict) and "exists" in condition:
        return (candidates is not None) == condition["exists"]
    if candidates is None:
        return False
    return any(_accepts(condition, value) for value in candidates)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _accepts(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        if condition is None or isinstance(condition, bool):
            return value is condition
        if isinstance(condition, str):
            return isinstance(value, str) and value == condition
        return _is_number(value) and float(value) == float(condition)
    ((operator, operand),) = condition.items()
    if operator == "numeric":
        return _is_number(value) and all(
            _NUMERIC[op](float(value), n) for op, n in _numeric_terms(operand)
        )
    if operator == "anything-but":
        return _anything_but(operand, value)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(operand)
    if operator == "suffix":
        return value.endswith(operand)
    if operator == "equals-ignore-case":
        return value.casefold() == str(operand).casefold()
    if operator == "wildcard":
        # Only "*" is special in SNS wildcards (any run of characters, none included).
        pattern = ".*".join(re.escape(part) for part in str(operand).split("*"))
        return re.fullmatch(pattern, value, re.S) is not None
    if operator == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(operand, strict=False)
        except ValueError:
            return False
    return False


def _anything_but(operand: Any, value: Any) -> bool:
    if isinstance(operand, dict):
        ((operator, text),) = operand.items()
        if not isinstance(value, str):
            return True
        return not (value.startswith(text) if operator == "prefix" else value.endswith(text))
    excluded = operand if isinstance(operand, list) else [operand]
    return not any(_accepts(item, value) for item in excluded)
