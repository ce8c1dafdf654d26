"""SNS filter policies (engine.services.topics.filter_policy): AWS's matching rules, one
operator at a time, on message attributes and on message bodies, and the policies refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.services.topics import filter_policy
from engine.services.topics.errors import InvalidParameter

ATTRS = filter_policy.ATTRIBUTES
BODY = filter_policy.BODY


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def array(values: list[Any]) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def on_attributes(policy: dict[str, Any], **attributes: dict[str, str]) -> bool:
    parsed = filter_policy.parse(json.dumps(policy), ATTRS)
    return filter_policy.matches(parsed, ATTRS, "message", attributes)


def on_body(policy: dict[str, Any], body: Any) -> bool:
    parsed = filter_policy.parse(json.dumps(policy), BODY)
    text = body if isinstance(body, str) else json.dumps(body)
    return filter_policy.matches(parsed, BODY, text, {})


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [
        ({"c": ["red"]}, {"c": string("red")}, True),
        ({"c": ["red"]}, {"c": string("Red")}, False),
        ({"c": ["red", "blue"]}, {"c": string("blue")}, True),  # OR across values
        ({"c": ["red"], "s": ["L"]}, {"c": string("red"), "s": string("M")}, False),  # AND
        ({"c": ["red"], "s": ["L"]}, {"c": string("red"), "s": string("L")}, True),
        ({"c": ["red"]}, {}, False),
        ({"n": [5]}, {"n": number("5.0")}, True),
        ({"n": [5]}, {"n": string("5")}, False),  # numbers match numbers only
        ({"n": ["5"]}, {"n": number("5")}, False),
        ({"n": [{"numeric": ["=", 3]}]}, {"n": number("3")}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": number("5")}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": number("0")}, False),
        ({"n": [{"numeric": [">=", 10]}]}, {"n": number("9.99")}, False),
        ({"n": [{"numeric": ["<", 10]}]}, {"n": number("-3")}, True),
        ({"c": [{"prefix": "bl"}]}, {"c": string("blue")}, True),
        ({"c": [{"prefix": "bl"}]}, {"c": string("able")}, False),
        ({"c": [{"suffix": "ue"}]}, {"c": string("blue")}, True),
        ({"c": [{"equals-ignore-case": "RED"}]}, {"c": string("red")}, True),
        ({"c": [{"wildcard": "r*d"}]}, {"c": string("rapid")}, True),
        ({"c": [{"wildcard": "r*d"}]}, {"c": string("rapids")}, False),
        ({"c": [{"anything-but": ["red", "blue"]}]}, {"c": string("green")}, True),
        ({"c": [{"anything-but": ["red", "blue"]}]}, {"c": string("red")}, False),
        ({"c": [{"anything-but": "red"}]}, {}, False),  # the key must be there
        ({"n": [{"anything-but": [1, 2]}]}, {"n": number("3")}, True),
        ({"n": [{"anything-but": [1, 2]}]}, {"n": number("2")}, False),
        ({"c": [{"anything-but": {"prefix": "re"}}]}, {"c": string("red")}, False),
        ({"c": [{"anything-but": {"prefix": "re"}}]}, {"c": string("green")}, True),
        ({"c": [{"exists": True}]}, {"c": string("x")}, True),
        ({"c": [{"exists": True}]}, {}, False),
        ({"c": [{"exists": False}]}, {}, True),
        ({"c": [{"exists": False}]}, {"c": string("x")}, False),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.0.7")}, True),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.1.7")}, False),
        ({"tags": ["b"]}, {"tags": array(["a", "b"])}, True),  # any element of String.Array
        ({"tags": ["c"]}, {"tags": array(["a", "b"])}, False),
        ({"tags": [7]}, {"tags": array(["a", 7])}, True),
        ({"b": [{"exists": True}]}, {"b": {"DataType": "Binary", "BinaryValue": "AA=="}}, True),
        ({"b": ["AA=="]}, {"b": {"DataType": "Binary", "BinaryValue": "AA=="}}, False),
        ({"$or": [{"c": ["red"]}, {"s": ["L"]}]}, {"s": string("L")}, True),
        ({"$or": [{"c": ["red"]}, {"s": ["L"]}]}, {"s": string("M")}, False),
    ],
)
def test_message_attribute_rules(
    policy: dict[str, Any], attributes: dict[str, dict[str, str]], expected: bool
) -> None:
    assert on_attributes(policy, **attributes) is expected


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": {"b": "y"}}, False),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
        ({"a": {"b": [{"numeric": [">", 1]}]}}, {"a": {"b": 2}}, True),
        ({"a": ["x"]}, {"a": ["w", "x"]}, True),  # a JSON array: any element
        ({"a": {"b": ["x"]}}, {"a": [{"b": "y"}, {"b": "x"}]}, True),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [None]}, {}, False),
        ({"a": [True]}, {"a": True}, True),
        ({"a": [True]}, {"a": "true"}, False),
        ({"a": {"b": [{"exists": False}]}}, {"a": {}}, True),
        ({"a": {"b": [{"exists": False}]}}, {}, True),
        ({"a": ["x"]}, "not json", False),
        ({"a": ["x"]}, ["x"], False),
    ],
)
def test_message_body_rules(policy: dict[str, Any], body: Any, expected: bool) -> None:
    assert on_body(policy, body) is expected


def test_no_policy_matches_everything() -> None:
    assert filter_policy.parse("", ATTRS) is None
    assert filter_policy.parse("{}", ATTRS) is None
    assert filter_policy.matches(None, ATTRS, "anything", {})


@pytest.mark.parametrize(
    ("text", "scope", "reason"),
    [
        ("{not json", ATTRS, "failed to parse JSON"),
        ("[1]", ATTRS, "must be a JSON object"),
        ('{"a": "x"}', ATTRS, "must be an object or an array"),
        ('{"a": []}', ATTRS, "Empty arrays"),
        ('{"a": {"b": ["x"]}}', ATTRS, "does not support nested"),
        ('{"a": [{"regex": "x"}]}', ATTRS, "Unrecognized match type regex"),
        ('{"a": [{"numeric": ["!", 1]}]}', ATTRS, "Unrecognized numeric range operator"),
        ('{"a": [{"numeric": ["<", "1"]}]}', ATTRS, "must be numeric"),
        ('{"a": [{"numeric": ["<", 1, ">", 5]}]}', ATTRS, "Bad numeric range"),
        ('{"a": [{"exists": "yes"}]}', ATTRS, "exists match pattern"),
        ('{"a": [{"prefix": 1}]}', ATTRS, "must be a string"),
        ('{"a": [[1]]}', ATTRS, "Match value must be"),
        ('{"a": [{"cidr": "nonsense"}]}', ATTRS, "CIDR"),
        ('{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}', ATTRS, "5 keys"),
        (json.dumps({k: list(range(6)) for k in "abc"}), ATTRS, "too complex"),
        ('{"$or": [{"a": ["x"]}]}', ATTRS, "$or"),
    ],
)
def test_refused_policies(text: str, scope: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as exc:
        filter_policy.parse(text, scope)
    assert exc.value.message.startswith("Invalid parameter: FilterPolicy: ")
    assert reason in exc.value.message
